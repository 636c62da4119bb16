"""ワンスオンリー: what the registry already knows, as the prefilled part of a procedure.

Every item carries its source (the municipality's 住民記録 and the date it was read), is shown
read-only, and is stored with the submission exactly as shown. The resident never types it; if
it is wrong they say so (a note to the clerk), and nothing in the registry changes by itself.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import date
from typing import Any

from lgcloud.benefits import banks
from lgcloud.benefits import queries as benefits_queries
from lgcloud.core.pages import jdate
from lgcloud.core.tenancy import TenantContext
from lgcloud.registry import queries as registry_queries
from lgcloud.registry.rules.record import ResidentRecord

from .rules.definitions import Choice, Definition

SEX_LABELS = {"1": "男", "2": "女"}
ACCOUNT_TYPES = {1: "普通", 2: "当座", 4: "貯蓄", 9: "その他"}
PUBLIC_FUNDS_SOURCE = "公金受取口座（国に登録された口座。給付アプリの記録）"


def _item(ctx: TenantContext, rec: ResidentRecord, item: str, today: date) -> str:
    if item == "full_name":
        return rec.full_name
    if item == "full_name_kana":
        return rec.full_name_kana
    if item == "birth_date":
        return jdate(rec.birth_date)
    if item == "sex":
        return SEX_LABELS.get(rec.sex, rec.sex)
    if item == "address":
        return rec.address
    if item == "address_detail":
        return rec.address_detail or "（なし）"
    if item == "household_number":
        return rec.household_number
    if item == "relationship":
        return rec.relationship
    if item == "household_members":
        members = registry_queries.get_household(ctx, rec.household_number, today=today)
        return "、".join(m.full_name for m in members if m.status != "removed")
    if item == "public_funds_account":
        return public_funds_account_label(ctx, rec.atena_number)
    raise KeyError(item)


def public_funds_account_label(ctx: TenantContext, atena_number: str) -> str:
    """The 公金受取口座 as shown to its holder: bank and branch by name, the number masked."""
    account = benefits_queries.public_funds_account(ctx, atena_number)
    if account is None:
        return "（登録がありません）"
    try:
        where = banks.lookup(account.bank_code, account.branch_code)
        bank = f"{where.bank_kana} {where.branch_kana}"
    except banks.UnknownBank:
        bank = f"金融機関 {account.bank_code} 支店 {account.branch_code}"
    kind = ACCOUNT_TYPES.get(account.account_type, "")
    return f"{bank} {kind} ＊＊＊＊{account.account_number[-3:]}"


def source_label(municipality_name: str, today: date) -> str:
    return f"{municipality_name}の住民記録（{jdate(today)}時点）"


def prefill_for(
    ctx: TenantContext, definition: Definition, atena_number: str, *, today: date, municipality_name: str
) -> dict[str, dict[str, Any]]:
    """{field: {label, value, source}} for ``atena_number``, read (and audited) through the registry."""
    rec = registry_queries.get_record(ctx, atena_number)
    source = source_label(municipality_name, today)
    return {
        p.field: {
            "label": p.label,
            "value": _item(ctx, rec, p.item, today),
            "source": PUBLIC_FUNDS_SOURCE if p.item == "public_funds_account" else source,
            "item": p.item,
        }
        for p in definition.prefill
    }


def resolve_choices(ctx: TenantContext, definition: Definition) -> Definition:
    """The definition with the choices that depend on the municipality filled in (``choices_from``).

    ``benefit_programmes``: the programmes of the municipality taking applications now.
    """
    if not any(f.choices_from for f in definition.fields):
        return definition
    choices = tuple(
        Choice(p.code, f"{p.name}（基準日 {jdate(p.reference_date)}）")
        for p in benefits_queries.programmes_open_for_application(ctx)
    )
    fields = tuple(
        replace(f, choices=choices) if f.choices_from == "benefit_programmes" else f for f in definition.fields
    )
    return replace(definition, fields=fields)


def registry_values(ctx: TenantContext, atena_number: str) -> dict[str, str]:
    """Current registry values of the items a field may be compared with (review page)."""
    rec = registry_queries.get_record(ctx, atena_number)
    return {
        "address": rec.address,
        "address_detail": rec.address_detail,
        "address_since": rec.address_since.isoformat(),
        "full_name": rec.full_name,
        "status": rec.status,
    }
