"""Which events a 異動 announces (連携; schema in docs/linkage.md).

One event per person the 異動 touches, typed by what happened to them, and one
``registry.household.changed`` per household whose members, 世帯主 or 続柄
changed. Events name the changed items, never their values: consumers read the
values through the purpose-bound API, where each read is audited.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date
from typing import Any

from lgcloud.core.outbox import emit
from lgcloud.core.tenancy import TenantContext

from .codes import ChangeType
from .rules.record import ResidentRecord

# 異動事由 → the event of the person it is about.
PERSON_EVENTS: dict[str, str] = {
    ChangeType.MOVE_IN: "registry.person.moved_in",
    ChangeType.EX_OFFICIO_ENTRY: "registry.person.entered_ex_officio",
    ChangeType.BIRTH: "registry.person.born",
    ChangeType.DEATH: "registry.person.died",
    ChangeType.MOVE_OUT_PLANNED: "registry.person.moving_out",
    ChangeType.MOVE_OUT_CONFIRMED: "registry.person.moved_out",
    ChangeType.ADDRESS_CHANGE: "registry.person.address_changed",
    ChangeType.HOUSEHOLD_HEAD_CHANGE: "registry.person.household_changed",
    ChangeType.HOUSEHOLD_SPLIT: "registry.person.household_changed",
    ChangeType.HOUSEHOLD_MERGE: "registry.person.household_changed",
    ChangeType.HOUSEHOLD_COMPOSITION: "registry.person.household_changed",
    ChangeType.NAME_CHANGE: "registry.person.name_changed",
    ChangeType.EX_OFFICIO_CORRECTION: "registry.person.corrected",
    ChangeType.EX_OFFICIO_REMOVAL: "registry.person.removed_ex_officio",
    ChangeType.EX_OFFICIO_RESTORATION: "registry.person.restored_ex_officio",
}
HOUSEHOLD_CHANGED = "registry.household.changed"
BULK_LOADED = "registry.changes.bulk_loaded"
# Someone whose only change in a 異動 is their place in the household (the successor of a
# deceased 世帯主, say) gets a household event, not the 異動's own (they did not die).
_HOUSEHOLD_ITEMS = frozenset({"relationship", "is_household_head", "household_number"})
# Items of the record whose presence on entry is announced (the others are empty or derived).
_NOT_ITEMS = frozenset({"foreign", "qualifications"})


def _changed(before: ResidentRecord | None, after: ResidentRecord) -> list[str]:
    new = after.to_json()
    if before is None:
        return sorted(k for k, v in new.items() if v not in ("", None, False, {}) and k not in _NOT_ITEMS)
    old = before.to_json()
    return sorted(k for k in new if old.get(k) != new[k])


def announce_change(
    ctx: TenantContext,
    *,
    change_number: int,
    change_type: str,
    effective_date: date,
    before: Mapping[str, ResidentRecord | None],
    after: Mapping[str, ResidentRecord],
    new_households: set[str],
    details: Mapping[str, Any],
) -> None:
    """Emit the events of one committed 異動, in the caller's transaction."""
    base = {"change_number": change_number, "change_type": change_type}
    households: dict[str, set[str]] = {}
    for atena, rec in after.items():
        previous = before.get(atena)
        items = _changed(previous, rec)
        own = PERSON_EVENTS[change_type]
        if previous is not None and items and set(items) <= _HOUSEHOLD_ITEMS and not own.endswith("household_changed"):
            own = "registry.person.household_changed"
        data: dict[str, Any] = {**base, "household_number": rec.household_number, "status": rec.status}
        if change_type == ChangeType.MOVE_OUT_PLANNED and details.get("destination_lg_code"):
            data["destination_lg_code"] = details["destination_lg_code"]
        if change_type == ChangeType.MOVE_IN and details.get("transfer_id"):
            data["transfer_id"] = details["transfer_id"]
        emit(ctx, type=own, subject=atena, effective_date=effective_date, changed_items=items, data=data)
        if previous is None or set(items) & (_HOUSEHOLD_ITEMS | {"status"}):
            households.setdefault(rec.household_number, set()).add(atena)
            if previous is not None and previous.household_number != rec.household_number:
                households.setdefault(previous.household_number, set()).add(atena)
    for number in sorted(households):
        emit(
            ctx,
            type=HOUSEHOLD_CHANGED,
            subject_type="household",
            subject=number,
            effective_date=effective_date,
            changed_items=["members"],
            data={**base, "created": number in new_households, "persons": sorted(households[number])},
        )


def announce_bulk_load(ctx: TenantContext, *, first_change: int, last_change: int, persons: int) -> None:
    """One event per bulk-load batch, not one per 異動 (docs/linkage.md explains why)."""
    emit(
        ctx,
        type=BULK_LOADED,
        subject_type="change_range",
        subject=f"{first_change}-{last_change}",
        effective_date=None,
        changed_items=["household", "person", "change"],
        data={"first_change_number": first_change, "last_change_number": last_change, "persons": persons},
    )
