"""Writes of the procedures app: publication, filing, review and the decision.

Each is one transaction with its audit record; approval performs the core action (a 転居 in
住民記録, a 住民票の写し issued for the post, …) inside that same transaction, so either the
submission is approved and the registry changed, or neither. E-mail goes out after the commit.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.http import Http404
from django.utils import timezone

from lgcloud.audit.actions import record as audit
from lgcloud.core.sequences import next_value
from lgcloud.core.tenancy import TenantContext, bound
from lgcloud.municipalities.queries import get_municipality
from lgcloud.registry import actions as registry_actions
from lgcloud.registry import certificates as registry_certificates
from lgcloud.registry import queries as registry_queries

from . import catalog, notify, prefill, storage
from .models import Attachment, Channel, ProcedureDefinition, Submission, SubmissionEvent, SubmissionStatus
from .rules.definitions import Definition, parse_definition
from .rules.fields import clean_values

logger = logging.getLogger(__name__)

FILE = "resident:procedure:file"
ASSIST = "procedures:counter:assist"
REVIEW = "procedures:submission:review"
MAX_NOTE = 500


class SubmissionInvalid(ValidationError):
    """What the resident entered does not pass the definition; ``error_dict`` is per field."""


@dataclass(frozen=True)
class UploadedFile:
    filename: str
    data: bytes


@dataclass(frozen=True)
class Filing:
    """What a resident (or a clerk with them at the counter) sends."""

    values: Mapping[str, str]
    disputes: Mapping[str, str] = field(default_factory=dict)
    files: Mapping[str, UploadedFile] = field(default_factory=dict)


@dataclass(frozen=True)
class Published:
    code: str
    version: int
    created: bool


def _now() -> datetime:
    return timezone.now()


# -- publication ---------------------------------------------------------------------------


def publish_definitions(ctx: TenantContext, directory: Path = catalog.DEFINITIONS_DIR) -> list[Published]:
    """Publish every definition file; a changed file becomes the next version of its procedure.

    Idempotent: an unchanged file publishes nothing. A broken file refuses the whole set.
    """
    if not ctx.has("platform:municipality:manage"):
        ctx.require("system")
    files = catalog.load_all(directory)
    out: list[Published] = []
    with bound(ctx), transaction.atomic():
        for f in files:
            latest = ProcedureDefinition.objects.filter(code=f.definition.code).order_by("-version").first()
            if latest is not None and latest.sha256 == f.sha256:
                out.append(Published(f.definition.code, latest.version, False))
                continue
            version = 1 if latest is None else latest.version + 1
            row = ProcedureDefinition.objects.create(
                code=f.definition.code,
                version=version,
                title=f.definition.title,
                content=f.content,
                sha256=f.sha256,
                published_at=_now(),
            )
            audit(ctx, "procedures.definition.published", subject_type="procedure_definition", subject_id=row.pk)
            out.append(Published(f.definition.code, version, True))
    return out


def _definition_of(row: ProcedureDefinition) -> Definition:
    return parse_definition(row.content)


def _latest(code: str) -> ProcedureDefinition:
    row = ProcedureDefinition.objects.filter(code=code).order_by("-version").first()
    if row is None:
        raise Http404("この手続は受け付けていません。")
    return row


# -- filing --------------------------------------------------------------------------------


def _store_files(
    ctx: TenantContext, definition: Definition, filing: Filing, now: datetime
) -> dict[str, tuple[str, storage.StoredFile]]:
    stored: dict[str, tuple[str, storage.StoredFile]] = {}
    errors: dict[str, str] = {}
    for spec in definition.attachments:
        upload = filing.files.get(spec.name)
        if upload is None or not upload.data:
            continue
        try:
            stored[spec.name] = (
                upload.filename[:200],
                storage.store(
                    ctx.tenant_code,
                    upload.data,
                    filename=upload.filename,
                    allowed=spec.types,
                    max_bytes=spec.max_bytes,
                    now=now,
                ),
            )
        except storage.AttachmentRefused as refused:
            errors[f"file_{spec.name}"] = str(refused)
    if errors:
        for _, f in stored.values():
            storage.remove(f.storage_path)
        raise SubmissionInvalid({k: [v] for k, v in errors.items()})
    return stored


def _event(ctx: TenantContext, submission: Submission, kind: str, message: str = "", actor_name: str = "") -> None:
    SubmissionEvent.objects.create(
        municipality_id=submission.municipality_id,
        submission=submission,
        kind=kind,
        occurred_at=_now(),
        actor_name=actor_name or ctx.actor_name,
        message=message,
    )


def _municipality_name(lg_code: str) -> str:
    m = get_municipality(lg_code)
    return m.name if m is not None else lg_code


def submit(
    ctx: TenantContext,
    *,
    code: str,
    atena_number: str,
    filing: Filing,
    today: date,
    resident_account_id: int | None = None,
    contact_email: str = "",
) -> int:
    """File a procedure for the resident ``atena_number``; returns the 受付番号.

    Online (the resident's own context, ``resident_account_id`` set) or at the counter: a clerk
    with ``procedures:counter:assist`` files it with the resident present, recorded as 代理入力
    with both identities.
    """
    counter = resident_account_id is None
    ctx.require(ASSIST if counter else FILE)
    row = _latest(code)
    definition = _definition_of(row)
    values, errors = clean_values(definition.fields, filing.values, today)
    for spec in definition.attachments:
        upload = filing.files.get(spec.name)
        if spec.required and (upload is None or not upload.data):
            errors[f"file_{spec.name}"] = "ファイルを添付してください。"
    if errors:
        raise SubmissionInvalid({k: [v] for k, v in errors.items()})
    disputes = {
        name: note.strip()[:MAX_NOTE]
        for name, note in filing.disputes.items()
        if note.strip() and any(p.field == name for p in definition.prefill)
    }
    now = _now()
    stored = _store_files(ctx, definition, filing, now)
    try:
        with bound(ctx):
            shown = prefill.prefill_for(
                ctx, definition, atena_number, today=today, municipality_name=_municipality_name(ctx.tenant_code)
            )
            rec = registry_queries.get_record(ctx, atena_number)
            if not rec.is_active:
                raise SubmissionInvalid({"__all__": ["住民記録が有効ではないため受け付けられません。"]})
            number = next_value(ctx, "procedures.submission")
            email = str(values.get("contact_email") or contact_email or "")
            submission = Submission.objects.create(
                municipality_id=ctx.tenant_code,
                number=number,
                definition=row,
                procedure_code=definition.code,
                atena_number=atena_number,
                resident_account_id=resident_account_id,
                channel=Channel.COUNTER if counter else Channel.ONLINE,
                entered_by_id=ctx.actor_id if counter else None,
                entered_by_name=ctx.actor_name if counter else "",
                values=values,
                prefill=shown,
                disputes=disputes,
                contact_email=email,
                submitted_at=now,
            )
            if counter:
                message = f"代理入力（窓口職員: {ctx.actor_name}／申請者: {rec.full_name}・宛名番号 {atena_number}）"
            else:
                message = "オンライン申請（本人）"
            if disputes:
                message += f"。住民記録の内容について申出 {len(disputes)} 件"
            _event(ctx, submission, "submitted", message)
            for name, (original, f) in stored.items():
                Attachment.objects.create(
                    municipality_id=ctx.tenant_code,
                    submission=submission,
                    name=name,
                    original_name=original,
                    content_type=f.content_type,
                    size=f.size,
                    sha256=f.sha256,
                    storage_path=f.storage_path,
                    scan_status=f.scan_status,
                    uploaded_at=now,
                )
            audit(
                ctx,
                "procedures.submission.submitted",
                subject_type="submission",
                subject_id=number,
                fields=sorted(values) + [f"dispute:{k}" for k in sorted(disputes)],
            )
            notify.after_commit(ctx.tenant_code, number, definition.title, "submitted", email)
    except BaseException:
        for _, f in stored.values():
            storage.remove(f.storage_path)
        raise
    return number


def _locked(ctx: TenantContext, number: int) -> Submission:
    submission = (
        Submission.objects.select_for_update()
        .select_related("definition")
        .filter(municipality_id=ctx.tenant_code, number=number)
        .first()
    )
    if submission is None:
        raise Http404("申請が見つかりません。")
    return submission


def resubmit(ctx: TenantContext, *, account_id: int, number: int, filing: Filing, today: date) -> None:
    """The resident corrects a returned submission (against the version it was filed under)."""
    ctx.require(FILE)
    with bound(ctx):
        submission = _locked(ctx, number)
        if submission.resident_account_id != account_id:
            raise Http404("申請が見つかりません。")
        if submission.status != SubmissionStatus.RETURNED:
            raise SubmissionInvalid({"__all__": ["この申請は今は修正できません。"]})
        definition = _definition_of(submission.definition)
        values, errors = clean_values(definition.fields, filing.values, today)
        if errors:
            raise SubmissionInvalid({k: [v] for k, v in errors.items()})
        disputes = {
            name: note.strip()[:MAX_NOTE]
            for name, note in filing.disputes.items()
            if note.strip() and any(p.field == name for p in definition.prefill)
        }
        submission.values = values
        submission.disputes = disputes
        submission.status = SubmissionStatus.SUBMITTED
        submission.claimed_by_id = None
        submission.claimed_by_name = ""
        submission.contact_email = str(values.get("contact_email") or submission.contact_email)
        submission.save()
        _event(ctx, submission, "resubmitted", "補正して再提出")
        audit(
            ctx,
            "procedures.submission.resubmitted",
            subject_type="submission",
            subject_id=number,
            fields=sorted(values),
        )
        notify.after_commit(ctx.tenant_code, number, definition.title, "submitted", submission.contact_email)


# -- review --------------------------------------------------------------------------------


def _require_reviewer(ctx: TenantContext, definition: Definition) -> None:
    ctx.require(REVIEW)
    if "system" in ctx.permissions:
        return
    if definition.reviewer_role not in {r.value for r in ctx.roles}:
        raise PermissionDenied("この手続の審査担当ではありません。")


def claim(ctx: TenantContext, number: int) -> None:
    """Take a submission to review (審査を開始). Another reviewer's claim is not taken over silently."""
    with bound(ctx):
        submission = _locked(ctx, number)
        _require_reviewer(ctx, _definition_of(submission.definition))
        if submission.status == SubmissionStatus.IN_REVIEW and submission.claimed_by_id not in (None, ctx.actor_id):
            raise SubmissionInvalid({"__all__": [f"{submission.claimed_by_name} さんが審査中です。"]})
        if submission.status not in (SubmissionStatus.SUBMITTED, SubmissionStatus.IN_REVIEW):
            raise SubmissionInvalid({"__all__": ["この申請は審査を開始できる状態ではありません。"]})
        submission.status = SubmissionStatus.IN_REVIEW
        submission.claimed_by_id = ctx.actor_id
        submission.claimed_by_name = ctx.actor_name
        submission.save(update_fields=["status", "claimed_by_id", "claimed_by_name", "updated_at"])
        _event(ctx, submission, "claimed", "審査を開始")
        audit(ctx, "procedures.submission.claimed", subject_type="submission", subject_id=number)


def _for_decision(ctx: TenantContext, number: int) -> tuple[Submission, Definition]:
    submission = _locked(ctx, number)
    definition = _definition_of(submission.definition)
    _require_reviewer(ctx, definition)
    if submission.status != SubmissionStatus.IN_REVIEW or submission.claimed_by_id != ctx.actor_id:
        raise SubmissionInvalid({"__all__": ["審査を開始した担当者だけが判断できます（先に「審査を開始」）。"]})
    return submission, definition


def _targets(ctx: TenantContext, submission: Submission, today: date) -> tuple[list[str], str | None]:
    """Whom a 転居/転出 concerns: the whole household or the applicant alone."""
    rec = registry_queries.get_record(ctx, submission.atena_number)
    members = [
        m.atena_number
        for m in registry_queries.get_household(ctx, rec.household_number, today=today)
        if m.status == "resident"
    ]
    if submission.values.get("scope") == "household":
        return members, None
    others = [m for m in members if m != submission.atena_number]
    # Part of a household moving forms a new one, headed by the applicant.
    return [submission.atena_number], (submission.atena_number if others else None)


def _perform(ctx: TenantContext, submission: Submission, definition: Definition, today: date) -> dict[str, Any]:
    values = submission.values
    filed_on = timezone.localdate(submission.submitted_at)
    reason = f"オンライン申請 受付番号 {submission.number}"
    action = definition.approval_action
    if action == "registry.address_change":
        atena, new_head = _targets(ctx, submission, today)
        result = registry_actions.register_address_change(
            ctx,
            atena_numbers=atena,
            address=values["new_address"],
            address_detail=values.get("new_address_detail") or "",
            effective_date=date.fromisoformat(values["moved_on"]),
            filed_on=filed_on,
            new_household_head=new_head,
            reason=reason,
        )
        return {"change_number": result.change_number, "late_filing": result.late_filing, "persons": len(atena)}
    if action == "registry.move_out":
        atena, _ = _targets(ctx, submission, today)
        result = registry_actions.register_move_out(
            ctx,
            atena_numbers=atena,
            planned_date=date.fromisoformat(values["planned_on"]),
            filed_on=filed_on,
            destination=values["destination"],
            reason=reason,
        )
        return {"change_number": result.change_number, "persons": len(atena)}
    if action == "registry.certificate_by_post":
        rec = registry_queries.get_record(ctx, submission.atena_number)
        kind = values["kind"]
        if kind == "household":
            subjects = tuple(
                m.atena_number
                for m in registry_queries.get_household(ctx, rec.household_number, today=today)
                if m.status == "resident"
            )
        else:
            subjects = (submission.atena_number,)
        issued = []
        fee = 0
        for _ in range(int(values["copies"])):
            cert = registry_certificates.issue_certificate(
                ctx,
                registry_certificates.CertificateRequest(
                    kind=kind,
                    atena_numbers=subjects,
                    channel="post",
                    requester=registry_certificates.Requester(
                        name=rec.full_name, birth_date=rec.birth_date, atena_number=submission.atena_number
                    ),
                    purpose=str(values.get("purpose") or ""),
                ),
                today=today,
            )
            fee += cert.fee_yen
            stored = storage.store_document(ctx.tenant_code, cert.pdf, content_type="application/pdf", now=_now())
            Attachment.objects.create(
                municipality_id=ctx.tenant_code,
                submission=submission,
                name="issued_certificate",
                original_name=f"住民票の写し_交付番号{cert.issue_number}.pdf",
                content_type=stored.content_type,
                size=stored.size,
                sha256=stored.sha256,
                storage_path=stored.storage_path,
                scan_status=stored.scan_status,
                uploaded_at=_now(),
            )
            issued.append(cert.issue_number)
        return {"issue_numbers": issued, "fee_yen": fee, "mail_to": rec.address}
    return {"note": definition.approval_note or "受理しました。"}


def approve(ctx: TenantContext, number: int, *, today: date) -> dict[str, Any]:
    """Approve and perform the core action, in one transaction with the audit records."""
    with bound(ctx):
        submission, definition = _for_decision(ctx, number)
        result = _perform(ctx, submission, definition, today)
        submission.status = SubmissionStatus.APPROVED
        submission.decided_at = _now()
        submission.result = result
        submission.save(update_fields=["status", "decided_at", "result", "updated_at"])
        _event(ctx, submission, "approved", "承認し、処理しました")
        audit(ctx, "procedures.submission.approved", subject_type="submission", subject_id=number)
        notify.after_commit(ctx.tenant_code, number, definition.title, "approved", submission.contact_email)
        return result


def _decide(ctx: TenantContext, number: int, reason: str, status: str, kind: str) -> None:
    reason = reason.strip()
    if not reason:
        raise SubmissionInvalid({"reason": ["理由を入力してください（申請者に伝わります）。"]})
    with bound(ctx):
        submission, definition = _for_decision(ctx, number)
        submission.status = status
        submission.decision_reason = reason[:2000]
        submission.decided_at = _now() if status == SubmissionStatus.REJECTED else None
        submission.save(update_fields=["status", "decision_reason", "decided_at", "updated_at"])
        _event(ctx, submission, kind, reason[:2000])
        audit(ctx, f"procedures.submission.{kind}", subject_type="submission", subject_id=number, fields=["reason"])
        notify.after_commit(ctx.tenant_code, number, definition.title, kind, submission.contact_email)


def return_for_correction(ctx: TenantContext, number: int, *, reason: str) -> None:
    """補正依頼: back to the resident with what to correct."""
    _decide(ctx, number, reason, SubmissionStatus.RETURNED, "returned")


def reject(ctx: TenantContext, number: int, *, reason: str) -> None:
    """却下, with the reason the resident is told."""
    _decide(ctx, number, reason, SubmissionStatus.REJECTED, "rejected")
