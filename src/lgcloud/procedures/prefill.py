"""ワンスオンリー: what the registry already knows, as the prefilled part of a procedure.

Every item carries its source (the municipality's 住民記録 and the date it was read), is shown
read-only, and is stored with the submission exactly as shown. The resident never types it; if
it is wrong they say so (a note to the clerk), and nothing in the registry changes by itself.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from lgcloud.core import wareki
from lgcloud.core.tenancy import TenantContext
from lgcloud.registry import queries as registry_queries
from lgcloud.registry.rules.record import ResidentRecord

from .rules.definitions import Definition

SEX_LABELS = {"1": "男", "2": "女"}


def jdate(day: date | None) -> str:
    if day is None:
        return ""
    try:
        return f"{wareki.format_date(day)}（{day.isoformat()}）"
    except wareki.WarekiError:
        return day.isoformat()


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
    raise KeyError(item)


def source_label(municipality_name: str, today: date) -> str:
    return f"{municipality_name}の住民記録（{jdate(today)}時点）"


def prefill_for(
    ctx: TenantContext, definition: Definition, atena_number: str, *, today: date, municipality_name: str
) -> dict[str, dict[str, Any]]:
    """{field: {label, value, source}} for ``atena_number``, read (and audited) through the registry."""
    rec = registry_queries.get_record(ctx, atena_number)
    source = source_label(municipality_name, today)
    return {
        p.field: {"label": p.label, "value": _item(ctx, rec, p.item, today), "source": source, "item": p.item}
        for p in definition.prefill
    }


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
