"""住民記録's part of online procedures (declared in its manifest): what approval does here, and the
items it prefills from the 住民票 (ワンスオンリー).

Each effect runs inside the approval's transaction with the reviewer's context; its result's
``message`` is what the resident reads on the portal.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date
from typing import Any

from lgcloud.contract import ProcedureRefused, SubmissionView, TenantContext, jdate

from . import actions, certificates, queries
from .parameters import fee_for
from .rules.record import ResidentRecord

SEX_LABELS = {"1": "男", "2": "女"}


# -- approval ----------------------------------------------------------------------------------


def _targets(ctx: TenantContext, submission: SubmissionView, today: date) -> tuple[list[str], str | None]:
    """Whom a 転居/転出 concerns: the whole household or the applicant alone (then heading a new one)."""
    rec = queries.get_record(ctx, submission.atena_number)
    members = [
        m.atena_number for m in queries.get_household(ctx, rec.household_number, today=today) if m.status == "resident"
    ]
    if submission.values.get("scope") == "household":
        return members, None
    others = [m for m in members if m != submission.atena_number]
    # Part of a household moving forms a new one, headed by the applicant.
    return [submission.atena_number], (submission.atena_number if others else None)


def address_change(ctx: TenantContext, submission: SubmissionView, today: date) -> dict[str, Any]:
    """転居届 (住民基本台帳法 第23条)."""
    values = submission.values
    atena, new_head = _targets(ctx, submission, today)
    result = actions.register_address_change(
        ctx,
        atena_numbers=atena,
        address=values["new_address"],
        address_detail=values.get("new_address_detail") or "",
        effective_date=date.fromisoformat(values["moved_on"]),
        filed_on=submission.filed_on,
        new_household_head=new_head,
        reason=submission.reason,
    )
    return {
        "change_number": result.change_number,
        "late_filing": result.late_filing,
        "persons": len(atena),
        "message": f"住民記録に反映しました（異動番号 {result.change_number}）。",
    }


def move_out(ctx: TenantContext, submission: SubmissionView, today: date) -> dict[str, Any]:
    """転出届 (住民基本台帳法 第24条); on the platform the destination receives the 転出証明書情報 itself."""
    values = submission.values
    atena, _ = _targets(ctx, submission, today)
    result = actions.register_move_out(
        ctx,
        atena_numbers=atena,
        planned_date=date.fromisoformat(values["planned_on"]),
        filed_on=submission.filed_on,
        destination=values["destination"],
        destination_lg_code=str(values.get("destination_lg_code") or ""),
        reason=submission.reason,
    )
    out: dict[str, Any] = {
        "change_number": result.change_number,
        "persons": len(atena),
        "message": f"住民記録に反映しました（異動番号 {result.change_number}）。",
    }
    if values.get("destination_lg_code"):
        out["destination_lg_code"] = values["destination_lg_code"]
    return out


def certificate_by_post(ctx: TenantContext, submission: SubmissionView, today: date) -> dict[str, Any]:
    """住民票の写しの交付（郵送） (住民基本台帳法 第12条): issued now, the PDFs kept with the submission."""
    values = submission.values
    rec = queries.get_record(ctx, submission.atena_number)
    kind = values["kind"]
    if kind == "household":
        subjects = tuple(
            m.atena_number
            for m in queries.get_household(ctx, rec.household_number, today=today)
            if m.status == "resident"
        )
    else:
        subjects = (submission.atena_number,)
    issued = []
    fee = 0
    for _ in range(int(values["copies"])):
        try:
            cert = certificates.issue_certificate(
                ctx,
                certificates.CertificateRequest(
                    kind=kind,
                    atena_numbers=subjects,
                    channel="post",
                    requester=certificates.Requester(
                        name=rec.full_name, birth_date=rec.birth_date, atena_number=submission.atena_number
                    ),
                    purpose=str(values.get("purpose") or ""),
                ),
                today=today,
            )
        except certificates.IssueRefused as exc:
            raise ProcedureRefused(exc.message) from None
        fee += cert.fee_yen
        submission.attach(
            "issued_certificate", f"住民票の写し_交付番号{cert.issue_number}.pdf", cert.pdf, "application/pdf"
        )
        issued.append(cert.issue_number)
    numbers = "、".join(str(n) for n in issued)
    return {
        "issue_numbers": issued,
        "fee_yen": fee,
        "mail_to": rec.address,
        "message": f"住民票の写しを交付しました（交付番号 {numbers}）。手数料 {fee:,}円。住民登録の住所へ郵送します。",
    }


def _fee_block(content: Mapping[str, Any]) -> Mapping[str, Any]:
    fee = content.get("fee")
    return fee if isinstance(fee, Mapping) else {}


def check_certificate_definition(content: Mapping[str, Any], fields: Mapping[str, Any]) -> list[str]:
    """The ``fee`` block names the field of the kind (its choices are the fee kinds) and of the copies."""
    fee = _fee_block(content)
    kind, copies = fee.get("kind_field"), fee.get("copies_field")
    if not fee:
        return ["fee: kind_field と copies_field を書いてください（交付手数料の計算に使います）"]
    if kind not in fields or copies not in fields:
        return ["fee: kind_field と copies_field は入力項目を指してください"]
    return []


def certificate_fees(ctx: TenantContext, content: Mapping[str, Any], today: date) -> list[tuple[str, int]]:
    """交付手数料 per copy for each kind the definition offers (the municipality's 手数料条例, dated)."""
    kind_field = _fee_block(content).get("kind_field")
    for raw in content.get("fields") or []:
        if isinstance(raw, Mapping) and raw.get("name") == kind_field:
            return [
                (str(c["label"]), fee_for(str(c["value"]), ctx.tenant_code, today)) for c in raw.get("choices") or []
            ]
    return []


# -- prefill (ワンスオンリー) -------------------------------------------------------------------


def _record(ctx: TenantContext, atena_number: str) -> ResidentRecord:
    return queries.get_record(ctx, atena_number)


def full_name(ctx: TenantContext, atena_number: str, today: date) -> str:
    return _record(ctx, atena_number).full_name


def full_name_kana(ctx: TenantContext, atena_number: str, today: date) -> str:
    return _record(ctx, atena_number).full_name_kana


def birth_date(ctx: TenantContext, atena_number: str, today: date) -> str:
    return jdate(_record(ctx, atena_number).birth_date)


def sex(ctx: TenantContext, atena_number: str, today: date) -> str:
    value = _record(ctx, atena_number).sex
    return SEX_LABELS.get(value, value)


def address(ctx: TenantContext, atena_number: str, today: date) -> str:
    return _record(ctx, atena_number).address


def address_detail(ctx: TenantContext, atena_number: str, today: date) -> str:
    return _record(ctx, atena_number).address_detail or "（なし）"


def household_number(ctx: TenantContext, atena_number: str, today: date) -> str:
    return _record(ctx, atena_number).household_number


def relationship(ctx: TenantContext, atena_number: str, today: date) -> str:
    return _record(ctx, atena_number).relationship


def household_members(ctx: TenantContext, atena_number: str, today: date) -> str:
    rec = _record(ctx, atena_number)
    members = queries.get_household(ctx, rec.household_number, today=today)
    return "、".join(m.full_name for m in members if m.status != "removed")


# What the review page sets beside an entered value: the item as stored.


def address_now(ctx: TenantContext, atena_number: str) -> str:
    return _record(ctx, atena_number).address


def address_detail_now(ctx: TenantContext, atena_number: str) -> str:
    return _record(ctx, atena_number).address_detail


def address_since_now(ctx: TenantContext, atena_number: str) -> str:
    return _record(ctx, atena_number).address_since.isoformat()


def address_since(ctx: TenantContext, atena_number: str, today: date) -> str:
    return jdate(_record(ctx, atena_number).address_since)
