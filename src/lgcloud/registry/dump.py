"""Every row of one municipality's register, streamed in a fixed order: what a full export reads.

Reads only; one transaction bound to the municipality (row-level security applies),
rows fetched in chunks (a server-side cursor on PostgreSQL), so memory stays flat
however large the town. The caller holds the iterators inside ``snapshot(ctx)`` so
every entity comes from the same consistent state.

Records are the JSON form of :class:`~lgcloud.registry.rules.record.ResidentRecord`
(what PersonVersion and Person store). 個人番号 are decrypted here only for the
export's own file and never logged.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from django.db import connection, transaction

from lgcloud.audit.actions import record as audit
from lgcloud.core import crypto
from lgcloud.core.placement import tenant_connection
from lgcloud.core.tenancy import TenantContext, bound

from .models import Change, Household, Person, PersonVersion, ProtectionOrder
from .permissions import RegistryPermission

EXPORT = RegistryPermission.RESIDENT_EXPORT
INDIVIDUAL_NUMBER = b"individual_number"  # associated data of the ciphertext (actions.INDIVIDUAL_NUMBER)
CHUNK = 5000


@dataclass(frozen=True)
class ChangeRow:
    """One 異動 as the standard layout carries it (read by the export, written by the import)."""

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
class DumpedVersion:
    atena_number: str
    seq: int  # 1, 2, … per person in the order the versions were written
    change_number: int
    effective_date: date
    record: dict[str, Any]


@dataclass(frozen=True)
class ProtectionRow:
    """One 支援措置 as the standard layout carries it (read by the export, written by the import)."""

    atena_number: str
    applicant: str
    starts_on: date
    expires_on: date
    ended_on: date | None
    adversary_display: str
    adversary_birth_date: date | None
    reason: str
    created_at: datetime


@contextmanager
def snapshot(ctx: TenantContext) -> Iterator[TenantContext]:
    """One read transaction for the whole export (REPEATABLE READ on PostgreSQL: one consistent state).

    For a municipality placed on another cluster (core.placement) the isolation level is set on the
    default connection only; its export reads in bound()'s transaction on its own cluster, which a
    move runs under the write freeze anyway.
    """
    ctx.require(EXPORT)
    outermost = not connection.in_atomic_block
    with transaction.atomic():
        if connection.vendor == "postgresql" and outermost:
            # SET TRANSACTION must be the transaction's first statement, before bound()'s
            # set_config; the snapshot is then fixed by the first read. Nested in a caller's
            # transaction it cannot be set: that transaction's own snapshot applies. Not READ
            # ONLY: the export's audit record is written in the same transaction.
            with connection.cursor() as cursor:
                cursor.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ")
        with bound(ctx):
            yield ctx


def counts(ctx: TenantContext) -> dict[str, int]:
    tenant = ctx.tenant_code
    return {
        "household": Household.objects.filter(municipality_id=tenant).count(),
        "person": Person.objects.filter(municipality_id=tenant).count(),
        "foreign_resident": Person.objects.filter(municipality_id=tenant, is_foreign=True).count(),
        "change": Change.objects.filter(municipality_id=tenant).count(),
        "change_record": PersonVersion.objects.filter(municipality_id=tenant).count(),
        "protection": ProtectionOrder.objects.filter(municipality_id=tenant).count(),
        "individual_number": Person.objects.filter(
            municipality_id=tenant, individual_number_ciphertext__isnull=False
        ).count(),
    }


def households(ctx: TenantContext) -> Iterator[tuple[str, date]]:
    _inside(ctx)
    rows = (
        Household.objects.filter(municipality_id=ctx.tenant_code)
        .order_by("household_number")
        .values_list("household_number", "created_on")
    )
    yield from rows.iterator(chunk_size=CHUNK)


def _stream(sql: str, params: list[Any]) -> Iterator[tuple[Any, ...]]:
    """Rows of a raw query in chunks (a server-side cursor on PostgreSQL), inside the caller's transaction."""
    with tenant_connection().chunked_cursor() as cursor:  # the municipality's cluster (core.placement)
        cursor.execute(sql, params)
        while rows := cursor.fetchmany(CHUNK):
            yield from rows


def _json(value: Any) -> dict[str, Any]:
    """A JSON column as the driver returns it (text on SQLite and on Django's PostgreSQL setup)."""
    loaded: dict[str, Any] = json.loads(value) if isinstance(value, str | bytes) else value
    return loaded


def persons(ctx: TenantContext, *, individual_numbers: bool) -> Iterator[tuple[dict[str, Any], str | None]]:
    """(current record, 個人番号 or None) per person, by 宛名番号.

    Raw SQL rather than the ORM: a million records, and the ORM's per-row converters were a
    third of the export (bench/README.md). The tenant filter is explicit; RLS applies as well.
    """
    _inside(ctx)
    q = tenant_connection().ops.quote_name
    sql = (
        f"SELECT record, individual_number_ciphertext FROM {q(Person._meta.db_table)}"  # noqa: S608
        " WHERE municipality_id = %s ORDER BY atena_number"
    )
    for record, blob in _stream(sql, [ctx.tenant_code]):
        number = crypto.decrypt(ctx, bytes(blob), INDIVIDUAL_NUMBER) if (individual_numbers and blob) else None
        yield _json(record), number


def changes(ctx: TenantContext) -> Iterator[ChangeRow]:
    """Every 異動 by 異動番号. A correction names an earlier 異動, already seen: no self-join.

    (The self-join a ``corrects__change_number`` lookup makes was planned badly on PostgreSQL right
    after a large import, before ANALYZE: minutes instead of seconds.)
    """
    _inside(ctx)
    rows = (
        Change.objects.filter(municipality_id=ctx.tenant_code)
        .order_by("change_number")
        .values_list(
            "id",
            "change_number",
            "change_type",
            "effective_date",
            "filed_on",
            "processed_at",
            "actor_name",
            "reason",
            "corrects_id",
            "late_filing",
            "details",
        )
    )
    numbers: dict[int, int] = {}  # id → 異動番号 of the corrected ones only (a handful per town)
    corrected = set(
        Change.objects.filter(municipality_id=ctx.tenant_code, corrects__isnull=False).values_list(
            "corrects_id", flat=True
        )
    )
    for pk, number, kind, effective, filed, processed, actor, reason, corrects_id, late, details in rows.iterator(
        chunk_size=CHUNK
    ):
        if pk in corrected:
            numbers[pk] = number
        corrects = numbers[corrects_id] if corrects_id is not None else None
        yield ChangeRow(number, kind, effective, filed, processed, actor, reason, corrects, late, details)


def versions(ctx: TenantContext) -> Iterator[DumpedVersion]:
    """Every PersonVersion, by person and then in the order written (id)."""
    _inside(ctx)
    q = tenant_connection().ops.quote_name
    sql = (
        f"SELECT p.atena_number, c.change_number, v.effective_date, v.record"  # noqa: S608
        f" FROM {q(PersonVersion._meta.db_table)} v"
        f" JOIN {q(Person._meta.db_table)} p ON p.id = v.person_id"
        f" JOIN {q(Change._meta.db_table)} c ON c.id = v.change_id"
        " WHERE v.municipality_id = %s ORDER BY p.atena_number, v.id"
    )
    previous, seq = "", 0
    for atena, change_number, effective, record in _stream(sql, [ctx.tenant_code]):
        seq = seq + 1 if atena == previous else 1
        previous = atena
        day = effective if isinstance(effective, date) else date.fromisoformat(effective)
        yield DumpedVersion(atena, seq, int(change_number), day, _json(record))


def protections(ctx: TenantContext) -> Iterator[ProtectionRow]:
    _inside(ctx)
    rows = (
        ProtectionOrder.objects.filter(municipality_id=ctx.tenant_code)
        .order_by("id")
        .values_list(
            "person__atena_number",
            "applicant__atena_number",
            "starts_on",
            "expires_on",
            "ended_on",
            "adversary_display",
            "adversary_birth_date",
            "reason",
            "created_at",
        )
    )
    for atena, applicant, starts, expires, ended, display, birth, reason, created in rows.iterator(chunk_size=CHUNK):
        yield ProtectionRow(atena, applicant or "", starts, expires, ended, display, birth, reason, created)


def record_export(ctx: TenantContext, *, bundle: str, files: dict[str, int], individual_numbers: bool) -> None:
    """The audit record of a finished export (names and counts, never values)."""
    audit(
        ctx,
        "registry.exported",
        subject_type="bundle",
        subject_id=bundle,
        fields=sorted(files) + (["individual_number"] if individual_numbers else []),
    )


def _inside(ctx: TenantContext) -> None:
    ctx.require(EXPORT)
    if not tenant_connection().in_atomic_block:
        raise RuntimeError("dump readers run inside snapshot(ctx)")
