"""ワンスオンリー: what the municipality's apps already know, as the prefilled part of a procedure.

Every item carries its source (the app's record and the date it was read), is shown read-only,
and is stored with the submission exactly as shown. The resident never types it; if it is wrong
they say so (a note to the clerk), and nothing in the record changes by itself. Which app reads an
item is the municipality's choice of implementation (procedures.hooks).
"""

from __future__ import annotations

from dataclasses import replace
from datetime import date
from typing import Any

from lgcloud.contract import GYOMU, TenantContext
from lgcloud.core.pages import jdate

from . import hooks
from .rules.definitions import Choice, Definition


class NotOffered(LookupError):
    """An item or choice source none of the municipality's apps offers (the procedure is not open here)."""


def _source(offer: hooks.Offered, municipality_name: str, today: date) -> str:
    template = offer.spec.source or "{municipality}の{gyomu}の記録（{date}時点）"
    gyomu = GYOMU[offer.app.gyomu].name if offer.app.gyomu else offer.app.name
    return str(template).format(municipality=municipality_name, gyomu=gyomu, date=jdate(today))


def prefill_for(
    ctx: TenantContext, definition: Definition, atena_number: str, *, today: date, municipality_name: str
) -> dict[str, dict[str, Any]]:
    """{field: {label, value, source, item}} for ``atena_number``, each read (and audited) by its app."""
    out: dict[str, dict[str, Any]] = {}
    for p in definition.prefill:
        offer = hooks.prefill_item_for(ctx.tenant_code, p.item)
        if offer is None:
            raise NotOffered(p.item)
        out[p.field] = {
            "label": p.label,
            "value": offer.call("reader")(ctx, atena_number, today),
            "source": _source(offer, municipality_name, today),
            "item": p.item,
        }
    return out


def resolve_choices(ctx: TenantContext, definition: Definition) -> Definition:
    """The definition with the choices that depend on the municipality filled in (``choices_from``).

    A source none of the municipality's apps offers gives no choices (the procedure is then not open).
    """
    if not any(f.choices_from for f in definition.fields):
        return definition
    fields = []
    for f in definition.fields:
        if f.choices_from:
            offer = hooks.choice_source_for(ctx.tenant_code, f.choices_from)
            pairs = offer.call("source")(ctx) if offer is not None else []
            f = replace(f, choices=tuple(Choice(str(v), str(label)) for v, label in pairs))
        fields.append(f)
    return replace(definition, fields=tuple(fields))


def stored_values(ctx: TenantContext, definition: Definition, atena_number: str) -> dict[str, str]:
    """{field: the stored value it is compared with} for the fields that name one (``compare_with``)."""
    out = {}
    for f in definition.fields:
        if f.compare_with:
            offer = hooks.prefill_item_for(ctx.tenant_code, f.compare_with)
            if offer is not None and offer.spec.compare:
                out[f.name] = str(offer.call("compare")(ctx, atena_number))
    return out
