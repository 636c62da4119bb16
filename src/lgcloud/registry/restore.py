"""Write a whole register into an empty municipality, as given: what a full import does.

The caller (lgcloud.portability) has already validated every value and every
reference. This module writes rows exactly as given — 宛名番号, 世帯番号,
異動番号, dates, the record of every version — so that exporting again gives the
same bytes. It runs inside the caller's transaction (``bound(ctx)``): the whole
register becomes visible at once, or not at all.

Entities must come in dependency order (households, persons, changes, versions,
protections), each sorted by its key, as the standard layout's files are. Keys
map to primary keys through sorted arrays, so memory stays small for a
million residents.
"""

from __future__ import annotations

import bisect
from array import array
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from datetime import date, datetime
from itertools import islice
from typing import Any, TypeVar

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from lgcloud.audit.actions import record as audit
from lgcloud.core import crypto
from lgcloud.core.models import TenantSequence
from lgcloud.core.tenancy import TenantContext

from .bulk import _insert, _reserve_ids
from .codes import ResidentStatus
from .models import Change, Household, Person, PersonVersion, ProtectionOrder
from .rules.record import fold_address, fold_kana, fold_name

RESTORE = "registry:resident:restore"
INDIVIDUAL_NUMBER = b"individual_number"
CHUNK = 2000

T = TypeVar("T")


@dataclass(frozen=True)
class RestoredPerson:
    atena_number: str
    record: dict[str, Any]  # the JSON form of ResidentRecord
    individual_number: str | None


@dataclass(frozen=True)
class RestoredChange:
    change_number: int
    change_type: str
    effective_date: date
    filed_on: date | None
    processed_at: datetime
    actor_name: str
    reason: str
    corrects: int | None
    late_filing: bool
    details: dict[str, Any]


@dataclass(frozen=True)
class RestoredVersion:
    atena_number: str
    change_number: int
    effective_date: date
    record: dict[str, Any]


@dataclass(frozen=True)
class RestoredProtection:
    atena_number: str
    applicant: str
    starts_on: date
    expires_on: date
    ended_on: date | None
    adversary_display: str
    adversary_birth_date: date | None
    reason: str
    created_at: datetime


@dataclass
class RestoreStats:
    households: int = 0
    persons: int = 0
    changes: int = 0
    versions: int = 0
    protections: int = 0
    individual_numbers: int = 0


class _KeyMap:
    """Sorted business keys (as integers) → primary keys, in two arrays."""

    def __init__(self) -> None:
        self.keys = array("q")
        self.ids = array("q")

    def add(self, key: int, pk: int) -> None:
        if self.keys and key <= self.keys[-1]:
            raise ValidationError(f"キーが昇順に並んでいません: {key}")
        self.keys.append(key)
        self.ids.append(pk)

    def __getitem__(self, key: int) -> int:
        i = bisect.bisect_left(self.keys, key)
        if i == len(self.keys) or self.keys[i] != key:
            raise ValidationError(f"参照先がありません: {key}")
        return self.ids[i]

    def last(self) -> int:
        return self.keys[-1] if self.keys else 0


def person_values_from_json(rec: dict[str, Any]) -> dict[str, Any]:
    """The Person columns projected from the JSON form of a 住民票 (as bulk.person_values does from a record)."""
    return {
        "status": rec["status"],
        "relationship": rec["relationship"],
        "is_household_head": rec["is_household_head"] and rec["status"] != ResidentStatus.REMOVED,
        "family_name": rec["family_name"],
        "given_name": rec["given_name"],
        "family_name_kana": rec["family_name_kana"],
        "given_name_kana": rec["given_name_kana"],
        "birth_date": date.fromisoformat(rec["birth_date"]),
        "sex": rec["sex"],
        "address": rec["address"],
        "address_detail": rec["address_detail"],
        "is_foreign": rec["is_foreign"],
        "resident_code": rec["resident_code"],
        "name_key": fold_name(rec["family_name"] + rec["given_name"]),
        "kana_key": fold_kana(rec["family_name_kana"] + rec["given_name_kana"]),
        "address_key": fold_address(rec["address"]),
        "record": rec,
    }


def is_empty(ctx: TenantContext) -> bool:
    tenant = ctx.tenant_code
    return not (
        Household.objects.filter(municipality_id=tenant).exists()
        or Person.objects.filter(municipality_id=tenant).exists()
        or Change.objects.filter(municipality_id=tenant).exists()
    )


def _chunks(items: Iterable[T], size: int = CHUNK) -> Iterator[list[T]]:
    it = iter(items)
    while chunk := list(islice(it, size)):
        yield chunk


def restore(
    ctx: TenantContext,
    *,
    households: Iterable[tuple[str, date]],
    persons: Iterable[RestoredPerson],
    changes: Iterable[RestoredChange],
    versions: Iterable[RestoredVersion],
    protections: Iterable[RestoredProtection],
    progress: Callable[[str, int], None] | None = None,
    source: str = "",
) -> RestoreStats:
    """Write the register. Must run inside ``bound(ctx)``; refuses a municipality that has data."""
    ctx.require(RESTORE)
    if not transaction.get_connection().in_atomic_block:
        raise RuntimeError("restore runs inside bound(ctx)")
    if not is_empty(ctx):
        raise ValidationError("この団体には住民記録がすでにあります。全件の取込みは空の団体にだけ行えます。")
    tenant = ctx.tenant_code
    now = timezone.now()
    stats = RestoreStats()
    tick = progress or (lambda _entity, _n: None)

    household_ids = _KeyMap()
    for household_chunk in _chunks(households):
        ids = _reserve_ids(Household, len(household_chunk))
        rows: list[dict[str, Any]] = []
        for pk, (number, created_on) in zip(ids, household_chunk, strict=True):
            household_ids.add(int(number), pk)
            rows.append({"id": pk, "municipality_id": tenant, "household_number": number, "created_on": created_on})
        _insert(Household, rows, now)
        stats.households += len(rows)
        tick("household", len(rows))

    person_ids = _KeyMap()
    for person_chunk in _chunks(persons):
        ids = _reserve_ids(Person, len(person_chunk))
        rows = []
        for pk, person in zip(ids, person_chunk, strict=True):
            person_ids.add(int(person.atena_number), pk)
            values = person_values_from_json(person.record)
            values.update(
                id=pk,
                municipality_id=tenant,
                atena_number=person.atena_number,
                household_id=household_ids[int(person.record["household_number"])],
            )
            if person.individual_number:
                values["individual_number_ciphertext"] = crypto.encrypt(
                    ctx, person.individual_number, INDIVIDUAL_NUMBER
                )
                stats.individual_numbers += 1
            rows.append(values)
        _insert(Person, rows, now)
        stats.persons += len(rows)
        tick("person", len(rows))

    change_ids = _KeyMap()
    for change_chunk in _chunks(changes):
        ids = _reserve_ids(Change, len(change_chunk))
        rows = []
        for pk, change in zip(ids, change_chunk, strict=True):
            change_ids.add(change.change_number, pk)
            rows.append(
                {
                    "id": pk,
                    "municipality_id": tenant,
                    "change_number": change.change_number,
                    "change_type": change.change_type,
                    "effective_date": change.effective_date,
                    "filed_on": change.filed_on,
                    "processed_at": change.processed_at,
                    "actor_id": None,
                    "actor_name": change.actor_name,
                    "reason": change.reason,
                    "corrects_id": change_ids[change.corrects] if change.corrects is not None else None,
                    "late_filing": change.late_filing,
                    "details": change.details,
                    "request_id": ctx.request_id,
                }
            )
        _insert(Change, rows, now)
        stats.changes += len(rows)
        tick("change", len(rows))

    for version_chunk in _chunks(versions):
        rows = [
            {
                "municipality_id": tenant,
                "person_id": person_ids[int(v.atena_number)],
                "change_id": change_ids[v.change_number],
                "effective_date": v.effective_date,
                "record": v.record,
            }
            for v in version_chunk
        ]
        _insert(PersonVersion, rows, now)  # in file order: the ids keep each person's order of versions
        stats.versions += len(rows)
        tick("change_record", len(rows))

    for protection_chunk in _chunks(protections):
        rows = [
            {
                "municipality_id": tenant,
                "person_id": person_ids[int(p.atena_number)],
                "applicant_id": person_ids[int(p.applicant)] if p.applicant else None,
                "starts_on": p.starts_on,
                "expires_on": p.expires_on,
                "ended_on": p.ended_on,
                "adversary_name_key": fold_name(p.adversary_display),
                "adversary_birth_date": p.adversary_birth_date,
                "adversary_display": p.adversary_display,
                "reason": p.reason,
                "created_at": p.created_at,
            }
            for p in protection_chunk
        ]
        _insert(ProtectionOrder, rows, now)
        stats.protections += len(rows)
        tick("protection", len(rows))

    # New numbers continue after the imported ones.
    for name, last in (
        ("registry.household", household_ids.last()),
        ("registry.atena", person_ids.last()),
        ("registry.change", change_ids.last()),
    ):
        row, _ = TenantSequence.objects.get_or_create(municipality_id=tenant, name=name)
        if row.last_value < last:
            row.last_value = last
            row.save(update_fields=["last_value"])
    audit(
        ctx,
        "registry.restored",
        subject_type="bundle",
        subject_id=source[:100],
        fields=["household", "person", "change", "change_record", "protection"]
        + (["individual_number"] if stats.individual_numbers else []),
    )
    return stats
