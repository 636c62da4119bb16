"""The fast write path for many residents at once: synthetic towns, benchmarks, data loads.

It writes what the actions would have written, 異動 by 異動: the same
Household, Person (the current 住民票 and its search keys), Change and
PersonVersion rows, with the same records. The difference is that it writes
thousands of residents per batch:

- each batch is one transaction bound to the municipality, so row-level
  security checks every row on PostgreSQL;
- numbers are reserved in one go from the municipality's sequences;
- rows go in with ``executemany``, not ``bulk_create`` (see :func:`_insert`);
- one audit record (``registry.bulk_load``) names the 異動番号 the batch took.

The input is streamed, so memory stays flat however large the town.

The rules the actions enforce (dates, one 世帯主 per household, the
個人番号 check digit) are checked here too, per household, before anything of
the batch is written. The duplicate-person warning is not: a bulk load
brings people who are already known to be distinct.

This module must not import ``actions``: the actions build their records and
projections with :func:`entry_record` and :func:`person_values`.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any, Protocol

from django.core.exceptions import ImproperlyConfigured, ValidationError
from django.db import models
from django.utils import timezone

from lgcloud.audit.actions import record as audit
from lgcloud.core import crypto
from lgcloud.core.checkdigits import CheckDigitError, validate_individual_number
from lgcloud.core.placement import tenant_connection
from lgcloud.core.sequences import next_value
from lgcloud.core.tenancy import TenantContext, bound

from .codes import FILING_TYPES, ChangeType, Relationship, ResidentStatus
from .events import announce_bulk_load
from .generator import AddressChange, Birth, Household, MoveIn
from .models import Change, Person, PersonVersion, ProtectionOrder
from .models import Household as HouseholdRow
from .permissions import RegistryPermission
from .rules.changes import Problem, check_dates, check_households, is_late_filing
from .rules.record import (
    ForeignResidentItems,
    Qualifications,
    ResidentRecord,
    fold_address,
    fold_kana,
    fold_name,
)

WRITE = RegistryPermission.RESIDENT_WRITE  # the permission of every registry write (actions.WRITE)
READ = RegistryPermission.RESIDENT_READ
INDIVIDUAL_NUMBER = b"individual_number"  # associated data of the ciphertext (actions.INDIVIDUAL_NUMBER)
DEFAULT_BATCH = 5000
_INSERT_CHUNK = 1000  # rows per executemany call


# --- records and their projection: shared with the actions -----------------------------------


class EnteringPerson(Protocol):
    """A person entering the register (actions.NewPerson, generator.Resident)."""

    @property
    def family_name(self) -> str: ...
    @property
    def given_name(self) -> str: ...
    @property
    def family_name_kana(self) -> str: ...
    @property
    def given_name_kana(self) -> str: ...
    @property
    def birth_date(self) -> date: ...
    @property
    def sex(self) -> str: ...
    @property
    def relationship(self) -> str: ...
    @property
    def former_family_name(self) -> str: ...
    @property
    def alias(self) -> str: ...
    @property
    def registered_domicile(self) -> str: ...
    @property
    def domicile_head(self) -> str: ...
    @property
    def voter_registered(self) -> bool: ...
    @property
    def is_foreign(self) -> bool: ...
    @property
    def foreign(self) -> ForeignResidentItems: ...


def entry_record(
    person: EnteringPerson,
    *,
    atena: str,
    household: str,
    address: str,
    address_detail: str,
    since: date,
    filed_on: date | None,
    previous_address: str,
    resident_code: str,
) -> ResidentRecord:
    """The 住民票 of a person entering the register (転入・出生・職権記載); also what the actions use."""
    return ResidentRecord(
        atena_number=atena,
        family_name=person.family_name,
        given_name=person.given_name,
        # Readings are stored as full-width katakana (the standard's rule); the name itself never changes.
        family_name_kana=fold_kana(person.family_name_kana) if person.family_name_kana else "",
        given_name_kana=fold_kana(person.given_name_kana) if person.given_name_kana else "",
        birth_date=person.birth_date,
        sex=person.sex,
        household_number=household,
        relationship=person.relationship,
        is_household_head=person.relationship == Relationship.HEAD,
        address=address,
        address_detail=address_detail,
        address_since=since,
        resident_since=since,
        previous_address=previous_address,
        filed_on=filed_on,
        former_family_name=person.former_family_name,
        alias=person.alias,
        registered_domicile=person.registered_domicile,
        domicile_head=person.domicile_head,
        resident_code=resident_code,
        voter_registered=person.voter_registered,
        is_foreign=person.is_foreign,
        foreign=person.foreign,
    )


def person_values(rec: ResidentRecord, as_json: dict[str, Any] | None = None) -> dict[str, Any]:
    """The Person columns projected from a 住民票 (search keys folded), except household and 個人番号.

    The projection actions._save_person writes too.
    """
    return {
        "status": rec.status,
        "relationship": rec.relationship,
        "is_household_head": rec.is_household_head and rec.status != ResidentStatus.REMOVED,
        "family_name": rec.family_name,
        "given_name": rec.given_name,
        "family_name_kana": rec.family_name_kana,
        "given_name_kana": rec.given_name_kana,
        "birth_date": rec.birth_date,
        "sex": rec.sex,
        "address": rec.address,
        "address_detail": rec.address_detail,
        "is_foreign": rec.is_foreign,
        "resident_code": rec.resident_code,
        "name_key": fold_name(rec.family_name + rec.given_name),
        "kana_key": fold_kana(rec.family_name_kana + rec.given_name_kana),
        "address_key": fold_address(rec.address),
        "record": as_json if as_json is not None else rec.to_json(),
    }


_PLAIN = (str, int, bool, type(None))


def _fields(cls: type) -> tuple[str, ...]:
    return tuple(f.name for f in dataclasses.fields(cls))


_RECORD_FIELDS = _fields(ResidentRecord)
_NESTED_FIELDS = {"foreign": _fields(ForeignResidentItems), "qualifications": _fields(Qualifications)}


def record_json(rec: ResidentRecord) -> dict[str, Any]:
    """``rec.to_json()``, several times faster (dataclasses.asdict deep-copies every value).

    Falls back to ``to_json`` for any value it does not know, so a new field can only make it slower.
    """
    out: dict[str, Any] = {}
    for name in _RECORD_FIELDS:
        value = getattr(rec, name)
        if isinstance(value, _PLAIN):
            out[name] = value
        elif isinstance(value, date):
            out[name] = value.isoformat()
        elif name in _NESTED_FIELDS:
            nested: dict[str, Any] = {}
            for inner in _NESTED_FIELDS[name]:
                v = getattr(value, inner)
                if isinstance(v, date):
                    nested[inner] = v.isoformat()
                elif isinstance(v, _PLAIN):
                    nested[inner] = v
                else:
                    return rec.to_json()
            out[name] = nested
        else:
            return rec.to_json()
    return out


# --- the load ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class LoadedHousehold:
    household: Household
    household_number: str
    atena_numbers: tuple[str, ...]  # in the order of household.members


@dataclass
class LoadStats:
    households: int = 0
    persons: int = 0
    changes: int = 0
    versions: int = 0
    late_filings: int = 0
    batches: int = 0
    loaded: list[LoadedHousehold] = field(default_factory=list)  # only with collect=True


@dataclass
class _PlannedChange:
    key: tuple[date, int, int]  # (異動日, household, event): 異動番号 follow the 異動日 within a batch
    household: int
    change_type: str
    effective_date: date
    filed_on: date | None
    details: dict[str, Any]
    records: list[tuple[int, ResidentRecord]]  # (member, record after)


def load_households(
    ctx: TenantContext,
    households: Iterable[Household],
    *,
    batch_size: int = DEFAULT_BATCH,
    today: date | None = None,
    on_batch: Callable[[LoadStats], None] | None = None,
    collect: bool = False,
) -> LoadStats:
    """Write ``households`` and their 異動, ``batch_size`` residents per transaction; one audit record per batch.

    A batch that breaks a rule is refused whole (ValidationError); earlier batches stay.
    """
    ctx.require(WRITE)
    today = today or timezone.localdate()
    stats = LoadStats()
    batch: list[Household] = []
    residents = 0
    for household in households:
        batch.append(household)
        residents += len(household.members)
        if residents >= batch_size:
            _write_batch(ctx, batch, stats, today, collect)
            if on_batch is not None:
                on_batch(stats)
            batch, residents = [], 0
    if batch:
        _write_batch(ctx, batch, stats, today, collect)
        if on_batch is not None:
            on_batch(stats)
    return stats


def _plan(
    index: int, household: Household, number: str, atenas: list[str], today: date
) -> tuple[list[_PlannedChange], dict[int, ResidentRecord]]:
    """Replay the household's 異動 the way the actions would record them."""
    current: dict[int, ResidentRecord] = {}
    planned: list[_PlannedChange] = []
    problems: list[Problem] = []
    for order, event in enumerate(household.events):
        touched: list[int]
        details: dict[str, Any] = {}
        if isinstance(event, MoveIn):
            change_type = ChangeType.MOVE_IN
            details = {"origin": event.origin, "previous_address": event.previous_address}
            touched = list(event.members)
            for i in touched:
                current[i] = entry_record(
                    household.members[i],
                    atena=atenas[i],
                    household=number,
                    address=event.address,
                    address_detail=event.address_detail,
                    since=event.effective_date,
                    filed_on=event.filed_on,
                    previous_address=event.previous_address,
                    resident_code=household.members[i].resident_code,
                )
        elif isinstance(event, Birth):
            change_type = ChangeType.BIRTH
            head = next((r for r in current.values() if r.is_household_head), None)
            if head is None:
                raise ValidationError({"household": [f"世帯 {number}: 出生の前に世帯主がいません。"]})
            touched = [event.member]
            current[event.member] = entry_record(
                household.members[event.member],
                atena=atenas[event.member],
                household=number,
                address=head.address,
                address_detail=head.address_detail,
                since=event.effective_date,
                filed_on=event.filed_on,
                previous_address="",
                resident_code=household.members[event.member].resident_code,
            )
        elif isinstance(event, AddressChange):
            change_type = ChangeType.ADDRESS_CHANGE
            touched = sorted(current)
            for i in touched:
                rec = current[i]
                current[i] = rec.replace(
                    address=event.address,
                    address_detail=event.address_detail,
                    address_since=event.effective_date,
                    pre_move_address=rec.address,
                )
        else:  # pragma: no cover - the Event union is closed
            raise TypeError(event)
        after = [(i, current[i]) for i in touched]
        problems += check_dates(change_type, event.effective_date, event.filed_on, [r for _, r in after], today=today)
        planned.append(
            _PlannedChange(
                (event.effective_date, index, order),
                index,
                change_type,
                event.effective_date,
                event.filed_on,
                details,
                after,
            )
        )
    problems += check_households({number: list(current.values())})
    for i, member in enumerate(household.members):
        if member.individual_number is not None:
            try:
                validate_individual_number(member.individual_number)
            except CheckDigitError as exc:
                problems.append(Problem("individual_number", f"宛名番号 {atenas[i]}: {exc.message}"))
    if len(current) != len(household.members):
        problems.append(Problem("household", f"世帯 {number}: 異動のない世帯員がいます。"))
    if problems:
        errors: dict[str, list[str]] = {}
        for p in problems:
            errors.setdefault(p.field, []).append(p.message)
        raise ValidationError(errors)
    return planned, current


def _write_batch(ctx: TenantContext, households: list[Household], stats: LoadStats, today: date, collect: bool) -> None:
    n_people = sum(len(h.members) for h in households)
    n_changes = sum(len(h.events) for h in households)
    with bound(ctx):
        first_household = next_value(ctx, "registry.household", count=len(households))
        first_atena = next_value(ctx, "registry.atena", count=n_people)
        first_change = next_value(ctx, "registry.change", count=n_changes)
        numbers: list[str] = []
        atenas: list[list[str]] = []
        planned: list[_PlannedChange] = []
        finals: list[dict[int, ResidentRecord]] = []
        offset = 0
        for index, household in enumerate(households):
            numbers.append(f"{first_household + index:010d}")
            atenas.append([f"{first_atena + offset + i:010d}" for i in range(len(household.members))])
            offset += len(household.members)
            changes, final = _plan(index, household, numbers[-1], atenas[-1], today)
            planned += changes
            finals.append(final)
        planned.sort(key=lambda c: c.key)
        encoded: dict[int, dict[str, Any]] = {}  # a person's newest version and Person.record share one

        def json_of(rec: ResidentRecord) -> dict[str, Any]:
            key = id(rec)  # every record of the batch stays alive until the batch is written
            if key not in encoded:
                encoded[key] = record_json(rec)
            return encoded[key]

        now = timezone.now()
        household_ids = _reserve_ids(HouseholdRow, len(households))
        _insert(
            HouseholdRow,
            [
                {"id": pk, "municipality_id": ctx.tenant_code, "household_number": number, "created_on": h.created_on}
                for pk, number, h in zip(household_ids, numbers, households, strict=True)
            ],
            now,
        )
        late = 0
        change_ids = _reserve_ids(Change, len(planned))
        change_rows: list[dict[str, Any]] = []
        for i, (pk, change) in enumerate(zip(change_ids, planned, strict=True)):
            is_late = change.change_type in FILING_TYPES and is_late_filing(change.effective_date, change.filed_on)
            late += is_late
            change_rows.append(
                {
                    "id": pk,
                    "municipality_id": ctx.tenant_code,
                    "change_number": first_change + i,
                    "change_type": change.change_type,
                    "effective_date": change.effective_date,
                    "filed_on": change.filed_on,
                    "processed_at": now,
                    "actor_id": ctx.actor_id,
                    "actor_name": ctx.actor_name,
                    "reason": "",
                    "late_filing": is_late,
                    "details": change.details,
                    "request_id": ctx.request_id,
                }
            )
        _insert(Change, change_rows, now)

        person_ids = _reserve_ids(Person, n_people)
        person_rows: list[dict[str, Any]] = []
        for h_index, (household, final) in enumerate(zip(households, finals, strict=True)):
            for i, member in enumerate(household.members):
                values = person_values(final[i], json_of(final[i]))
                if member.individual_number is not None:
                    values["individual_number_ciphertext"] = crypto.encrypt(
                        ctx, member.individual_number, INDIVIDUAL_NUMBER
                    )
                values.update(
                    id=person_ids[len(person_rows)],
                    municipality_id=ctx.tenant_code,
                    atena_number=atenas[h_index][i],
                    household_id=household_ids[h_index],
                )
                person_rows.append(values)
        _insert(Person, person_rows, now)

        first_person: list[int] = []  # index of each household's first member in person_ids
        total = 0
        for household in households:
            first_person.append(total)
            total += len(household.members)
        versions = [
            {
                "municipality_id": ctx.tenant_code,
                "person_id": person_ids[first_person[change.household] + member],
                "change_id": change_id,
                "effective_date": change.effective_date,
                "record": json_of(rec),
            }
            for change, change_id in zip(planned, change_ids, strict=True)
            for member, rec in change.records
        ]
        _insert(PersonVersion, versions, now)
        # 連携: one event per batch, not per 異動 (docs/linkage.md, "Bulk loads").
        announce_bulk_load(ctx, first_change=first_change, last_change=first_change + n_changes - 1, persons=n_people)
        audit(
            ctx,
            "registry.bulk_load",
            subject_type="change_range",
            subject_id=f"{first_change}-{first_change + n_changes - 1}",
            fields=["household", "person", "change", "record"],
        )
    stats.households += len(households)
    stats.persons += n_people
    stats.changes += n_changes
    stats.versions += len(versions)
    stats.late_filings += late
    stats.batches += 1
    if collect:
        stats.loaded += [
            LoadedHousehold(h, number, tuple(a)) for h, number, a in zip(households, numbers, atenas, strict=True)
        ]


# --- rows straight into the tables -------------------------------------------------------------
#
# The ORM's bulk_create spends about 4 µs per field per row compiling SQL, which was most of a
# load (measured: bench/README.md). These helpers insert plain rows with executemany instead,
# still driven by the model: every concrete column, each value through its field's conversion
# for the database, and a field left out gets what bulk_create would give it (its default, or
# now for auto_now). They run inside the caller's bound() transaction, so RLS checks every row.

_PASS_THROUGH = frozenset(
    {
        "AutoField",
        "BigAutoField",
        "BigIntegerField",
        "BooleanField",
        "CharField",
        "ForeignKey",
        "IntegerField",
        "PositiveBigIntegerField",
        "PositiveIntegerField",
        "PositiveSmallIntegerField",
        "SmallIntegerField",
        "TextField",
    }
)


def _converter(field: models.Field[Any, Any]) -> Callable[[Any], Any] | None:
    """How a Python value of ``field`` goes to the database driver (None: as it is)."""
    connection = tenant_connection()
    kind = field.get_internal_type()
    if kind in _PASS_THROUGH:
        return None
    if kind == "DateField":
        return connection.ops.adapt_datefield_value
    if kind == "DateTimeField":
        return connection.ops.adapt_datetimefield_value
    return lambda value: field.get_db_prep_save(value, connection)


def _reserve_ids(model: type[models.Model], count: int) -> list[int]:
    """Primary keys for ``count`` new rows, taken the way the database would assign them."""
    table = model._meta.db_table
    pk = str(model._meta.pk.column)
    connection = tenant_connection()  # the municipality's cluster (core.placement)
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute(
                "SELECT nextval(pg_get_serial_sequence(%s, %s)) FROM generate_series(1, %s)", [table, pk, count]
            )
            return [int(row[0]) for row in cursor.fetchall()]
        if connection.vendor == "sqlite":
            # The batch has written already (the sequences), so this transaction holds SQLite's
            # one write lock: nobody can insert between this read and our INSERT. AUTOINCREMENT
            # never reuses a key, so the high-water mark counts as well as the rows.
            quote = connection.ops.quote_name
            cursor.execute(
                f"SELECT max(coalesce((SELECT seq FROM sqlite_sequence WHERE name = %s), 0),"  # noqa: S608
                f" coalesce((SELECT max({quote(pk)}) FROM {quote(table)}), 0))",
                [table],
            )
            first = int(cursor.fetchone()[0]) + 1
            return list(range(first, first + count))
    # lgcloud supports SQLite and PostgreSQL only (DESIGN.md); say so instead of guessing.
    raise ImproperlyConfigured(f"一括登録は SQLite と PostgreSQL のみ対応しています（{connection.vendor}）。")


def _insert(model: type[models.Model], rows: list[dict[str, Any]], now: datetime) -> None:
    if not rows:
        return
    pk = model._meta.pk
    connection = tenant_connection()
    # Without a key of its own a row gets the database's (as bulk_create leaves the column out).
    fields = [f for f in model._meta.concrete_fields if f is not pk or pk.attname in rows[0]]
    quote = connection.ops.quote_name
    # Identifiers from the model's own metadata, quoted; every value is a bound parameter.
    sql = "INSERT INTO {} ({}) VALUES ({})".format(  # noqa: S608
        quote(model._meta.db_table),
        ", ".join(quote(str(f.column)) for f in fields),
        ", ".join(["%s"] * len(fields)),
    )
    columns: list[tuple[str, Any, Callable[[Any], Any] | None]] = []
    for f in fields:
        if getattr(f, "auto_now", False) or getattr(f, "auto_now_add", False):
            default: Any = now
        else:
            default = f.get_default()
        columns.append((f.attname, default, _converter(f)))
    params = [
        tuple(
            (convert(row.get(name, default)) if convert is not None else row.get(name, default))
            for name, default, convert in columns
        )
        for row in rows
    ]
    with connection.cursor() as cursor:
        for start in range(0, len(params), _INSERT_CHUNK):
            cursor.executemany(sql, params[start : start + _INSERT_CHUNK])


def count_residents(ctx: TenantContext) -> int:
    """How many residents (not 除票) the municipality has; a count, so no personal data is read."""
    ctx.require(READ)
    with bound(ctx):
        return Person.objects.filter(municipality_id=ctx.tenant_code).exclude(status=ResidentStatus.REMOVED).count()


@dataclass(frozen=True)
class TownSummary:
    residents: int
    households: int
    changes: int
    protected: int
    individual_numbers: int


def town_summary(ctx: TenantContext, *, today: date) -> TownSummary:
    """Counts only (no personal data is read): residents, their households, 異動, 支援措置, 個人番号."""
    ctx.require(READ)
    with bound(ctx):
        people = Person.objects.filter(municipality_id=ctx.tenant_code).exclude(status=ResidentStatus.REMOVED)
        return TownSummary(
            residents=people.count(),
            households=people.values("household_id").distinct().count(),
            changes=Change.objects.filter(municipality_id=ctx.tenant_code).count(),
            protected=ProtectionOrder.objects.filter(
                municipality_id=ctx.tenant_code, starts_on__lte=today, expires_on__gte=today, ended_on__isnull=True
            )
            .values("person_id")
            .distinct()
            .count(),
            individual_numbers=people.filter(individual_number_ciphertext__isnull=False).count(),
        )
