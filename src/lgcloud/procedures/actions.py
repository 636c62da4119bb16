"""Writes of the procedures app: publication, filing, review and the decision.

Each is one transaction with its audit record; approval performs the core action (a 転居 in
住民記録, a 住民票の写し issued for the post, …) inside that same transaction, so either the
submission is approved and the registry changed, or neither. E-mail goes out after the commit.
"""

from __future__ import annotations

import logging
import re
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
from lgcloud.benefits import actions as benefits_actions
from lgcloud.benefits import banks
from lgcloud.benefits import queries as benefits_queries
from lgcloud.core.permissions import PlatformPermission
from lgcloud.core.sequences import next_value
from lgcloud.core.tenancy import TenantContext, bound
from lgcloud.municipalities.queries import get_municipality
from lgcloud.registry import actions as registry_actions
from lgcloud.registry import certificates as registry_certificates
from lgcloud.registry import queries as registry_queries

from . import catalog, notify, prefill, storage
from .models import Attachment, Channel, ProcedureDefinition, Submission, SubmissionEvent, SubmissionStatus
from .rules.definitions import PUBLIC_FUNDS, Definition, parse_definition
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


def publish_definitions(ctx: TenantContext, directory: Path = catalog.DEFINITIONS_DIR) -> list[Published]:
    """Publish every definition file; a changed file becomes the next version of its procedure.

    Idempotent: an unchanged file publishes nothing. A broken file refuses the whole set.
    """
    if not ctx.has(PlatformPermission.PLATFORM_MUNICIPALITY_MANAGE):
        raise PermissionDenied("手続の公開は運用者か基盤のコマンドが行います。")
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


def _account_errors(
    ctx: TenantContext, definition: Definition, values: dict[str, Any], atena_number: str, errors: Mapping[str, str]
) -> dict[str, str]:
    """The 振込先: the 公金受取口座 on file if chosen, else every account field, with codes that exist.

    Bank and branch codes are checked against the 全銀協 codes the way the benefits app checks
    them when it registers an account (``benefits.banks.lookup``), so a wrong code is corrected
    by the resident now, not found by a clerk later. Account fields not used are not kept.
    """
    spec = definition.account
    if spec is None:
        return {}
    if spec.source_field and values.get(spec.source_field) == PUBLIC_FUNDS:
        for name in spec.fields:
            values[name] = ""
        if spec.source_field not in errors and benefits_queries.public_funds_account(ctx, atena_number) is None:
            return {spec.source_field: "公金受取口座が登録されていません。振込先の口座を入力してください。"}
        return {}
    found = {name: "入力してください。" for name in spec.fields if not values.get(name) and name not in errors}
    if found or any(name in errors for name in spec.fields):
        return found
    try:
        banks.lookup(str(values[spec.bank_code]), str(values[spec.branch_code]))
    except banks.UnknownBank as exc:
        field_name = spec.branch_code if str(exc).startswith("支店") else spec.bank_code
        return {field_name: str(exc)}
    return {}


def _own_code_errors(
    ctx: TenantContext, definition: Definition, values: dict[str, Any], errors: Mapping[str, str]
) -> dict[str, str]:
    """A 団体コード field (``check: lg_code``) names another municipality: moving within one is a 転居."""
    return {
        f.name: "この市区町村の団体コードです。市区町村の中での引っ越しは転居届で届け出てください。"
        for f in definition.fields
        if f.check == "lg_code" and f.name not in errors and values.get(f.name) == ctx.tenant_code
    }


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
    errors |= _account_errors(ctx, definition, values, atena_number, errors)
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
        definition = prefill.resolve_choices(ctx, _definition_of(submission.definition))
        values, errors = clean_values(definition.fields, filing.values, today)
        errors |= _account_errors(ctx, definition, values, submission.atena_number, errors)
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
            # On the platform, the destination receives the 転出証明書情報 itself (linkage's once-only move).
            destination_lg_code=str(values.get("destination_lg_code") or ""),
            reason=reason,
        )
        out: dict[str, Any] = {"change_number": result.change_number, "persons": len(atena)}
        if values.get("destination_lg_code"):
            out["destination_lg_code"] = values["destination_lg_code"]
        return out
    if action == "benefits.child_allowance":
        return _claim_child_allowance(ctx, submission, filed_on, reason, today)
    if action == "benefits.flat_benefit":
        return _apply_for_benefit(ctx, submission, definition)
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


def _squeeze(name: str) -> str:
    return "".join(name.split())


def _claim_child_allowance(
    ctx: TenantContext, submission: Submission, filed_on: date, reason: str, today: date
) -> dict[str, Any]:
    """児童手当 認定請求 into the benefits app: the case of the 請求者 (opened, or the one the 出生・転入
    already opened as 申請勧奨) with each named child of the household, claimed on the filing date
    (認定請求日: the allowance runs from the following month, 児童手当法 第8条). The 認定 itself stays
    a decision in the benefits app, with its 認定通知書."""
    values = submission.values
    if values.get("civil_servant"):
        raise SubmissionInvalid(
            {"__all__": ["公務員の方の児童手当は勤務先が認定・支給します（児童手当法 第17条）。却下してください。"]}
        )
    rec = registry_queries.get_record(ctx, submission.atena_number)
    members = [
        m
        for m in registry_queries.get_household(ctx, rec.household_number, today=today)
        if m.status == "resident" and m.atena_number != submission.atena_number
    ]
    names = [n for n in re.split(r"[、,，]", str(values["children"])) if n.strip()]
    if not names:
        raise SubmissionInvalid({"__all__": ["対象のお子さんの氏名がありません。補正依頼をしてください。"]})
    children = []
    for i, name in enumerate(names, start=1):
        matched = [m for m in members if _squeeze(m.full_name) == _squeeze(name)]
        if len(matched) != 1:
            raise SubmissionInvalid(
                {
                    "__all__": [
                        f"対象のお子さん（{i}人目）が請求者の世帯に見つかりません。"
                        "別居の児童は窓口で確認のうえ、補正依頼をしてください。"
                    ]
                }
            )
        children.append(matched[0])
    try:
        cases = [
            benefits_actions.open_child_allowance_case(
                ctx,
                claimant_atena_number=submission.atena_number,
                household_number=rec.household_number,
                child_atena_number=child.atena_number,
                child_birth_date=child.birth_date,
                reason=f"認定請求（{reason}）"[:200],
                on=filed_on,
            )
            for child in children
        ]
        # One open case per 請求者: every child lands in the same case.
        case = benefits_actions.claim_child_allowance(ctx, cases[-1].case_number, claimed_on=filed_on)
    except benefits_actions.BenefitRefused as exc:
        raise SubmissionInvalid({"__all__": [exc.message]}) from None
    return {
        "case_number": case.case_number,
        "case_state": case.state,
        "children": len(children),
        "claimed_on": filed_on.isoformat(),
    }


def _apply_for_benefit(ctx: TenantContext, submission: Submission, definition: Definition) -> dict[str, Any]:
    """The flat benefit's 申請 into the benefits app. Only the 受給権者 and only once per household: the
    benefits app's unique constraints decide, so a second filing (any channel) is refused here and
    can never lead to a second payment."""
    values = submission.values
    spec = definition.account
    if spec is None:  # the loader requires it for this action
        raise SubmissionInvalid({"__all__": ["手続の定義に振込先の指定がありません。"]})
    code = definition.approval_programme or str(values["programme"])
    rec = registry_queries.get_record(ctx, submission.atena_number)
    if spec.source_field and values.get(spec.source_field) == PUBLIC_FUNDS:
        on_file = benefits_queries.public_funds_account(ctx, submission.atena_number)
        if on_file is None:
            gone = "公金受取口座の登録がなくなっています。補正依頼で口座を尋ねてください。"
            raise SubmissionInvalid({"__all__": [gone]})
        account = benefits_actions.AccountInput(
            on_file.bank_code, on_file.branch_code, on_file.account_type, on_file.account_number, on_file.holder_kana
        )
        used = "公金受取口座"
    else:
        account = benefits_actions.AccountInput(
            str(values[spec.bank_code]),
            str(values[spec.branch_code]),
            1,  # 普通預金: the form asks for no other kind
            str(values[spec.account_number]),
            str(values[spec.holder_kana]),
        )
        used = "申請の口座"
    try:
        benefits_actions.apply_for_benefit(
            ctx,
            code,
            household_number=rec.household_number,
            applicant_atena_number=submission.atena_number,
            channel=submission.channel,
            account=account,
        )
    except benefits_actions.BenefitRefused as exc:
        raise SubmissionInvalid({"__all__": [exc.message]}) from None
    return {"programme": code, "household_number": rec.household_number, "account": used}


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
