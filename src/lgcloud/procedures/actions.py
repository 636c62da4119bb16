"""Writes of the procedures engine: publication, filing, review and the decision.

Each is one transaction with its audit record; approval performs the effect the definition names
(``on_approve.action``), offered by the app the municipality uses for that 業務 (a 転居 in 住民記録,
a 住民票の写し issued for the post, …), inside that same transaction, so either the submission is
approved and the app's records changed, or neither. The engine names no app. E-mail goes out after
the commit.
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
from lgcloud.contract import ProcedureRefused, Resident, SubmissionView
from lgcloud.core.permissions import PlatformPermission
from lgcloud.core.sequences import next_value
from lgcloud.core.tenancy import TenantContext, bound
from lgcloud.municipalities.queries import get_municipality, resident_directory

from . import catalog, hooks, notify, prefill, storage
from .models import Attachment, Channel, ProcedureDefinition, Submission, SubmissionEvent, SubmissionStatus
from .rules.definitions import RECORD_ONLY, Definition, parse_definition
from .rules.fields import clean_values

logger = logging.getLogger(__name__)

FILE = PlatformPermission.RESIDENT_FILE
ASSIST = PlatformPermission.COUNTER_ASSIST
REVIEW = PlatformPermission.REVIEW
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


def publish_definitions(ctx: TenantContext, directories: list[Path] | None = None) -> list[Published]:
    """Publish every definition the installed apps ship (or those in ``directories``); a changed file
    becomes the next version of its procedure.

    Idempotent: an unchanged file publishes nothing. A broken file refuses the whole set.
    """
    if not ctx.has(PlatformPermission.PLATFORM_MUNICIPALITY_MANAGE):
        raise PermissionDenied("手続の公開は運用者か基盤のコマンドが行います。")
    files = catalog.load_all(directories)
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


def _effect_errors(
    ctx: TenantContext, row: ProcedureDefinition, values: dict[str, Any], atena_number: str, errors: Mapping[str, str]
) -> dict[str, str]:
    """What the approval's effect checks of the filing beyond each field (e.g. a bank account's codes)."""
    definition = _definition_of(row)
    offer = hooks.effect_for(ctx.tenant_code, definition.approval_action)
    if offer is None or not offer.spec.check_filing:
        return {}
    found: dict[str, str] = offer.call("check_filing")(ctx, row.content, values, atena_number, errors)
    return found


def _own_code_errors(
    ctx: TenantContext, definition: Definition, values: dict[str, Any], errors: Mapping[str, str]
) -> dict[str, str]:
    """A 団体コード field (``check: lg_code``) names another municipality: moving within one is a 転居."""
    return {
        f.name: "この市区町村の団体コードです。市区町村の中での引っ越しは転居届で届け出てください。"
        for f in definition.fields
        if f.check == "lg_code" and f.name not in errors and values.get(f.name) == ctx.tenant_code
    }


def _applicant(ctx: TenantContext, atena_number: str) -> Resident:
    """The applicant, a resident of the municipality now (asked of its 住民基本台帳 implementation)."""
    directory = resident_directory(ctx.tenant_code)
    found = directory.get(ctx, atena_number) if directory is not None else None
    if found is None or not found.active:
        raise SubmissionInvalid({"__all__": ["住民記録が有効ではないため受け付けられません。"]})
    return found


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
    definition = prefill.resolve_choices(ctx, _definition_of(row))
    values, errors = clean_values(definition.fields, filing.values, today)
    errors |= _effect_errors(ctx, row, values, atena_number, errors)
    errors |= _own_code_errors(ctx, definition, values, errors)
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
            rec = _applicant(ctx, atena_number)
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
        definition = prefill.resolve_choices(ctx, _definition_of(submission.definition))
        values, errors = clean_values(definition.fields, filing.values, today)
        errors |= _effect_errors(ctx, submission.definition, values, submission.atena_number, errors)
        errors |= _own_code_errors(ctx, definition, values, errors)
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
    if ctx.is_system:
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


def _attacher(ctx: TenantContext, submission: Submission) -> Any:
    def attach(name: str, filename: str, content: bytes, content_type: str) -> None:
        stored = storage.store_document(ctx.tenant_code, content, content_type=content_type, now=_now())
        Attachment.objects.create(
            municipality_id=ctx.tenant_code,
            submission=submission,
            name=name,
            original_name=filename[:200],
            content_type=stored.content_type,
            size=stored.size,
            sha256=stored.sha256,
            storage_path=stored.storage_path,
            scan_status=stored.scan_status,
            uploaded_at=_now(),
        )

    return attach


def _perform(ctx: TenantContext, submission: Submission, definition: Definition, today: date) -> dict[str, Any]:
    """The definition's effect, by the app the municipality uses for its 業務, in this transaction."""
    if definition.approval_action == RECORD_ONLY:
        note = definition.approval_note or "受理しました。"
        return {"note": note, "message": note}
    offer = hooks.effect_for(ctx.tenant_code, definition.approval_action)
    if offer is None:
        gyomu = hooks.gyomu_of(definition.approval_action) or "この手続の業務"
        raise SubmissionInvalid({"__all__": [f"この団体は{gyomu}の業務アプリを利用していないため、承認できません。"]})
    view = SubmissionView(
        number=submission.number,
        procedure_code=submission.procedure_code,
        atena_number=submission.atena_number,
        channel=submission.channel,
        filed_on=timezone.localdate(submission.submitted_at),
        values=dict(submission.values),
        definition=submission.definition.content,
        attach=_attacher(ctx, submission),
    )
    try:
        result: dict[str, Any] = offer.call("handler")(ctx, view, today)
    except ProcedureRefused as exc:
        raise SubmissionInvalid({"__all__": [exc.message]}) from None
    return result


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
