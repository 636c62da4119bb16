"""給付's part of online procedures (declared in its manifest): the 児童手当 認定請求, the flat
benefit's 申請 with its 振込先, the 公金受取口座 as a prefilled item, and the programmes taking
applications as the choices of a form.

The household comes from the municipality's 住民記録 through its published interface.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import date
from typing import Any

from lgcloud.contract import ProcedureRefused, SubmissionView, TenantContext, jdate, on_approve_option
from lgcloud.registry.interface import RESIDENTS

from . import actions, banks, queries

# The value of ``account.source_field`` that means "use the 公金受取口座 on file" instead of an entered account.
PUBLIC_FUNDS = "public_funds"
ACCOUNT_KEYS = ("bank_code", "branch_code", "account_number", "holder_kana")
ACCOUNT_TYPES = {1: "普通", 2: "当座", 4: "貯蓄", 9: "その他"}


def _squeeze(name: str) -> str:
    return "".join(name.split())


# -- 児童手当 認定請求 ----------------------------------------------------------------------------


def claim_child_allowance(ctx: TenantContext, submission: SubmissionView, today: date) -> dict[str, Any]:
    """児童手当 認定請求: the case of the 請求者 (opened, or the one a 出生・転入 already opened as 申請勧奨)
    with each named child of the household, claimed on the filing date (認定請求日: the allowance
    runs from the following month, 児童手当法 第8条). The 認定 stays a decision of the welfare clerk."""
    values = submission.values
    if values.get("civil_servant"):
        raise ProcedureRefused(
            "公務員の方の児童手当は勤務先が認定・支給します（児童手当法 第17条）。却下してください。"
        )
    household = RESIDENTS.household(ctx, submission.atena_number, today)
    applicant = next((m for m in household if m.atena_number == submission.atena_number), None)
    if applicant is None:
        raise ProcedureRefused("請求者の住民記録が見つかりません。")
    members = [m for m in household if m.active and m.atena_number != submission.atena_number]
    names = [n for n in re.split(r"[、,，]", str(values["children"])) if n.strip()]
    if not names:
        raise ProcedureRefused("対象のお子さんの氏名がありません。補正依頼をしてください。")
    children = []
    for i, name in enumerate(names, start=1):
        matched = [m for m in members if _squeeze(m.full_name) == _squeeze(name)]
        if len(matched) != 1:
            raise ProcedureRefused(
                f"対象のお子さん（{i}人目）が請求者の世帯に見つかりません。別居の児童は窓口で確認のうえ、補正依頼をしてください。"
            )
        children.append(matched[0])
    try:
        cases = [
            actions.open_child_allowance_case(
                ctx,
                claimant_atena_number=submission.atena_number,
                household_number=applicant.household_number,
                child_atena_number=child.atena_number,
                child_birth_date=child.birth_date,
                reason=f"認定請求（{submission.reason}）"[:200],
                on=submission.filed_on,
            )
            for child in children
        ]
        # One open case per 請求者: every child lands in the same case.
        case = actions.claim_child_allowance(ctx, cases[-1].case_number, claimed_on=submission.filed_on)
    except actions.BenefitRefused as exc:
        raise ProcedureRefused(exc.message) from None
    return {
        "case_number": case.case_number,
        "case_state": case.state,
        "children": len(children),
        "claimed_on": submission.filed_on.isoformat(),
        "message": (
            f"児童手当の認定請求を受け付けました（請求日 {jdate(submission.filed_on)}）。"
            "認定されると認定通知書をお送りします。"
        ),
    }


# -- the flat benefit's 申請 ----------------------------------------------------------------------


def _account_spec(content: Mapping[str, Any]) -> Mapping[str, Any]:
    spec = content.get("account")
    return spec if isinstance(spec, Mapping) else {}


def check_account_definition(content: Mapping[str, Any], fields: Mapping[str, Any]) -> list[str]:
    """The 振込先 block, where there is one, names entered fields (with 公金受取口座 as a choice of its
    source field)."""
    problems: list[str] = []
    spec = _account_spec(content)
    if not spec:
        return problems
    named = [str(spec.get(k) or "") for k in ACCOUNT_KEYS]
    source = str(spec.get("source_field") or "")
    if not all(named) or any(n not in fields for n in [*named, *([source] if source else [])]):
        problems.append(f"account: 口座の各項目（{', '.join(ACCOUNT_KEYS)}）は入力項目を指してください")
    if source and source in fields and PUBLIC_FUNDS not in {c.value for c in fields[source].choices}:
        problems.append(f"account.source_field: 選択肢に {PUBLIC_FUNDS}（公金受取口座）が必要です")
    return problems


def check_benefit_definition(content: Mapping[str, Any], fields: Mapping[str, Any]) -> list[str]:
    """The 振込先 block is required and valid, and the programme is written or chosen from those taking
    applications."""
    if not _account_spec(content):
        return [f"on_approve.action benefits.flat_benefit: 振込先の account（{', '.join(ACCOUNT_KEYS)}）が必要です"]
    problems = check_account_definition(content, fields)
    on_approve = content.get("on_approve") or {}
    programme = on_approve.get("programme") if isinstance(on_approve, Mapping) else None
    chosen = fields.get("programme")
    if not programme and (chosen is None or chosen.choices_from != "benefit_programmes"):
        problems.append(
            "on_approve.action benefits.flat_benefit: programme を書くか、"
            "choices_from: benefit_programmes の項目 programme を置いてください"
        )
    return problems


def check_benefit_filing(
    ctx: TenantContext,
    content: Mapping[str, Any],
    values: dict[str, Any],
    atena_number: str,
    errors: Mapping[str, str],
) -> dict[str, str]:
    """The 振込先, where the definition has one: the 公金受取口座 on file if chosen, else every account
    field, with codes that exist (checked against the 全銀協 codes as when the benefits app registers an
    account), so a wrong code is corrected by the resident now, not found by a clerk later. Fields not
    used are not kept."""
    spec = _account_spec(content)
    if not spec:
        return {}
    names = [str(spec.get(k) or "") for k in ACCOUNT_KEYS]
    source = str(spec.get("source_field") or "")
    if source and values.get(source) == PUBLIC_FUNDS:
        for name in names:
            values[name] = ""
        if source not in errors and queries.public_funds_account(ctx, atena_number) is None:
            return {source: "公金受取口座が登録されていません。振込先の口座を入力してください。"}
        return {}
    found = {name: "入力してください。" for name in names if not values.get(name) and name not in errors}
    if found or any(name in errors for name in names):
        return found
    bank_field, branch_field = names[0], names[1]
    try:
        banks.lookup(str(values[bank_field]), str(values[branch_field]))
    except banks.UnknownBank as exc:
        return {branch_field if str(exc).startswith("支店") else bank_field: str(exc)}
    return {}


def apply_for_benefit(ctx: TenantContext, submission: SubmissionView, today: date) -> dict[str, Any]:
    """The flat benefit's 申請. Only the 受給権者 and only once per household: the benefits app's unique
    constraints decide, so a second filing (any channel) is refused and never leads to a second payment."""
    values = submission.values
    spec = _account_spec(submission.definition)
    code = str(on_approve_option(submission, "programme") or values["programme"])
    resident = RESIDENTS.get(ctx, submission.atena_number)
    if resident is None:
        raise ProcedureRefused("申請者の住民記録が見つかりません。")
    source = str(spec.get("source_field") or "")
    if source and values.get(source) == PUBLIC_FUNDS:
        on_file = queries.public_funds_account(ctx, submission.atena_number)
        if on_file is None:
            raise ProcedureRefused("公金受取口座の登録がなくなっています。補正依頼で口座を尋ねてください。")
        account = actions.AccountInput(
            on_file.bank_code, on_file.branch_code, on_file.account_type, on_file.account_number, on_file.holder_kana
        )
        used = "公金受取口座"
    else:
        bank, branch, number, holder = (str(values[str(spec[k])]) for k in ACCOUNT_KEYS)
        account = actions.AccountInput(bank, branch, 1, number, holder)  # 1 普通預金: the form asks no other
        used = "申請の口座"
    try:
        actions.apply_for_benefit(
            ctx,
            code,
            household_number=resident.household_number,
            applicant_atena_number=submission.atena_number,
            channel=submission.channel,
            account=account,
        )
    except actions.BenefitRefused as exc:
        raise ProcedureRefused(exc.message) from None
    return {
        "programme": code,
        "household_number": resident.household_number,
        "account": used,
        "message": f"給付金の申請を受け付けました（振込先: {used}）。振込の日は、あらためてお知らせします。",
    }


# -- prefill and choices ------------------------------------------------------------------------


def public_funds_account_label(ctx: TenantContext, atena_number: str, today: date) -> str:
    """The 公金受取口座 as shown to its holder: bank and branch by name, the number masked."""
    account = queries.public_funds_account(ctx, atena_number)
    if account is None:
        return "（登録がありません）"
    try:
        where = banks.lookup(account.bank_code, account.branch_code)
        bank = f"{where.bank_kana} {where.branch_kana}"
    except banks.UnknownBank:
        bank = f"金融機関 {account.bank_code} 支店 {account.branch_code}"
    kind = ACCOUNT_TYPES.get(account.account_type, "")
    return f"{bank} {kind} ＊＊＊＊{account.account_number[-3:]}"


def open_programmes(ctx: TenantContext) -> list[tuple[str, str]]:
    """The programmes taking applications now, as the choices of an application form."""
    return [
        (p.code, f"{p.name}（基準日 {jdate(p.reference_date)}）") for p in queries.programmes_open_for_application(ctx)
    ]
