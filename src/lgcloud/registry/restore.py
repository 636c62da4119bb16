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
from datetime import date
from itertools import islice
from typing import Any, TypeVar

from django.core.exceptions import ImproperlyConfigured, ValidationError
from django.db import models
from django.utils import timezone

from lgcloud.audit.actions import record as audit
from lgcloud.core import crypto
from lgcloud.core.models import TenantSequence
from lgcloud.core.placement import tenant_connection
from lgcloud.core.tenancy import TenantContext

from .bulk import _reserve_ids
from .codes import ResidentStatus
from .dump import ChangeRow, ProtectionRow
from .events import announce_bulk_load
from .models import Change, Household, Person, PersonVersion, ProtectionOrder
from .permissions import RegistryPermission
from .rules.record import fold_address, fold_kana, fold_name

RESTORE = RegistryPermission.RESIDENT_RESTORE
INDIVIDUAL_NUMBER = b"individual_number"
CHUNK = 2000

T = TypeVar("T")


@dataclass(frozen=True)
class RestoredPerson:
    atena_number: str
    record: dict[str, Any]  # the JSON form of ResidentRecord
    individual_number: str | None


@dataclass(frozen=True)
class RestoredVersion:
    atena_number: str
    change_number: int
    effective_date: date
    record: dict[str, Any]


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


class _Writer:
    """INSERT of plain tuples in the model's own column order: no per-value conversion beyond what each column needs.

    The restore builds each row as a tuple in ``COLUMNS[model]`` order. If a migration adds or renames a
    column, the check below fails at the first import (and in the tests), instead of writing rows that
    miss a value.
    """

    def __init__(self, model: type[models.Model]) -> None:
        names = [f.attname for f in model._meta.concrete_fields]
        if names != list(COLUMNS[model]):
            raise ImproperlyConfigured(f"restore: the columns of {model.__name__} changed: {names}")
        quote = tenant_connection().ops.quote_name
        self.sql = "INSERT INTO {} ({}) VALUES ({})".format(  # noqa: S608 — names from the model's metadata
            quote(model._meta.db_table),
            ", ".join(quote(str(f.column)) for f in model._meta.concrete_fields),
            ", ".join(["%s"] * len(names)),
        )

    def write(self, rows: list[tuple[Any, ...]]) -> None:
        if rows:
            with tenant_connection().cursor() as cursor:
                cursor.executemany(self.sql, rows)


COLUMNS: dict[type[models.Model], tuple[str, ...]] = {
    Household: ("id", "municipality_id", "household_number", "created_on"),
    Person: (
        "id",
        "municipality_id",
        "atena_number",
        "resident_code",
        "individual_number_ciphertext",
        "status",
        "household_id",
        "relationship",
        "is_household_head",
        "family_name",
        "given_name",
        "family_name_kana",
        "given_name_kana",
        "birth_date",
        "sex",
        "address",
        "address_detail",
        "is_foreign",
        "name_key",
        "kana_key",
        "address_key",
        "record",
        "updated_at",
    ),
    Change: (
        "id",
        "municipality_id",
        "change_number",
        "change_type",
        "effective_date",
        "filed_on",
        "processed_at",
        "actor_id",
        "actor_name",
        "reason",
        "corrects_id",
        "late_filing",
        "details",
        "request_id",
    ),
    PersonVersion: ("id", "municipality_id", "person_id", "change_id", "effective_date", "record"),
    ProtectionOrder: (
        "id",
        "municipality_id",
        "person_id",
        "applicant_id",
        "starts_on",
        "expires_on",
        "ended_on",
        "adversary_name_key",
        "adversary_birth_date",
        "adversary_display",
        "reason",
        "created_at",
    ),
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
    changes: Iterable[ChangeRow],
    versions: Iterable[RestoredVersion],
    protections: Iterable[ProtectionRow],
    progress: Callable[[str, int], None] | None = None,
    source: str = "",
) -> RestoreStats:
    """Write the register. Must run inside ``bound(ctx)``; refuses a municipality that has data."""
    ctx.require(RESTORE)
    if not tenant_connection().in_atomic_block:
        raise RuntimeError("restore runs inside bound(ctx)")
    if not is_empty(ctx):
        raise ValidationError("この団体には住民記録がすでにあります。全件の取込みは空の団体にだけ行えます。")
    tenant = ctx.tenant_code
    stats = RestoreStats()
    tick = progress or (lambda _entity, _n: None)
    ops = tenant_connection().ops  # the municipality's cluster (core.placement)
    as_json = ops.adapt_json_value
    moment = ops.adapt_datetimefield_value
    day = ops.adapt_datefield_value
    now = moment(timezone.now())
    writers = {model: _Writer(model) for model in COLUMNS}

    household_ids = _KeyMap()
    for household_chunk in _chunks(households):
        ids = _reserve_ids(Household, len(household_chunk))
        rows: list[tuple[Any, ...]] = []
        for pk, (number, created_on) in zip(ids, household_chunk, strict=True):
            household_ids.add(int(number), pk)
            rows.append((pk, tenant, number, day(created_on)))
        writers[Household].write(rows)
        stats.households += len(rows)
        tick("household", len(rows))

    person_ids = _KeyMap()
    for person_chunk in _chunks(persons):
        ids = _reserve_ids(Person, len(person_chunk))
        rows = []
        for pk, person in zip(ids, person_chunk, strict=True):
            person_ids.add(int(person.atena_number), pk)
            rec = person.record
            ciphertext = None
            if person.individual_number:
                ciphertext = crypto.encrypt(ctx, person.individual_number, INDIVIDUAL_NUMBER)
                stats.individual_numbers += 1
            status = rec["status"]
            rows.append(
                (
                    pk,
                    tenant,
                    person.atena_number,
                    rec["resident_code"],
                    ciphertext,
                    status,
                    household_ids[int(rec["household_number"])],
                    rec["relationship"],
                    rec["is_household_head"] and status != ResidentStatus.REMOVED,
                    rec["family_name"],
                    rec["given_name"],
                    rec["family_name_kana"],
                    rec["given_name_kana"],
                    rec["birth_date"],  # ISO text, as the record holds it
                    rec["sex"],
                    rec["address"],
                    rec["address_detail"],
                    rec["is_foreign"],
                    fold_name(rec["family_name"] + rec["given_name"]),
                    fold_kana(rec["family_name_kana"] + rec["given_name_kana"]),
                    fold_address(rec["address"]),
                    as_json(rec, None),
                    now,
                )
            )
        writers[Person].write(rows)
        stats.persons += len(rows)
        tick("person", len(rows))

    change_ids = _KeyMap()
    first_change = 0
    for change_chunk in _chunks(changes):
        ids = _reserve_ids(Change, len(change_chunk))
        rows = []
        for pk, change in zip(ids, change_chunk, strict=True):
            change_ids.add(change.change_number, pk)
            first_change = first_change or change.change_number
            rows.append(
                (
                    pk,
                    tenant,
                    change.change_number,
                    change.change_type,
                    day(change.effective_date),
                    day(change.filed_on),
                    moment(change.processed_at),
                    None,
                    change.actor_name,
                    change.reason,
                    change_ids[change.corrects] if change.corrects is not None else None,
                    change.late_filing,
                    as_json(change.details, None),
                    ctx.request_id,
                )
            )
        writers[Change].write(rows)
        stats.changes += len(rows)
        tick("change", len(rows))

    for version_chunk in _chunks(versions, 5000):
        ids = _reserve_ids(PersonVersion, len(version_chunk))  # in file order: ids keep each person's order
        rows = [
            (
                pk,
                tenant,
                person_ids[int(v.atena_number)],
                change_ids[v.change_number],
                day(v.effective_date),
                as_json(v.record, None),
            )
            for pk, v in zip(ids, version_chunk, strict=True)
        ]
        writers[PersonVersion].write(rows)
        stats.versions += len(rows)
        tick("change_record", len(rows))

    for protection_chunk in _chunks(protections):
        ids = _reserve_ids(ProtectionOrder, len(protection_chunk))
        rows = [
            (
                pk,
                tenant,
                person_ids[int(p.atena_number)],
                person_ids[int(p.applicant)] if p.applicant else None,
                day(p.starts_on),
                day(p.expires_on),
                day(p.ended_on),
                fold_name(p.adversary_display),
                day(p.adversary_birth_date),
                p.adversary_display,
                p.reason,
                moment(p.created_at),
            )
            for pk, p in zip(ids, protection_chunk, strict=True)
        ]
        writers[ProtectionOrder].write(rows)
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
    if stats.changes:  # 連携: one event for the whole import, as for a bulk-load batch (docs/linkage.md)
        announce_bulk_load(ctx, first_change=first_change, last_change=change_ids.last(), persons=stats.persons)
    audit(
        ctx,
        "registry.restored",
        subject_type="bundle",
        subject_id=source[:100],
        fields=["household", "person", "change", "change_record", "protection"]
        + (["individual_number"] if stats.individual_numbers else []),
    )
    return stats
