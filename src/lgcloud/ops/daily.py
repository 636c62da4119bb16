"""Closing a day: the meters derived from durable records (so each can be computed again at any time).

``lgcloud usage_close --day YYYY-MM-DD`` (default: yesterday) reads, for each municipality on
the platform, inside its own tenant block:

- ``db_rows`` / ``db_bytes``: rows and bytes of its rows in every tenant table, by the 業務 of
  the app that owns the table (bytes: PostgreSQL's ``pg_column_size`` of each row; on SQLite
  the stored length of each column);
- ``storage.exports`` / ``storage.attachments`` / ``storage.certificates``: files kept for it;
- ``job_ms``: milliseconds its batch runs were running that day, by the 業務 of the job kind;
- ``events_delivered``: webhook deliveries received that day, by the 業務 that emits the type;
- ``procedures_filed.online`` / ``.counter``: procedures filed that day;
- each installed app's own countables (``Manifest.usage``: certificates issued, residents).

Closing a day again replaces these readings; the request meters (flushed by the workers) are
left alone.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from functools import cache
from typing import Any

from django.apps import apps
from django.db import models
from django.utils import timezone

from lgcloud.contract.discovery import installed, resolve
from lgcloud.contract.statistics import APP_METERS
from lgcloud.core.placement import tenant_connection
from lgcloud.core.tenancy import TenantContext, bound

from . import metering, queries
from .actions import replace_meters
from .models import PLATFORM


def day_bounds(day: date) -> tuple[datetime, datetime]:
    """[00:00 JST of ``day``, 00:00 JST of the next day) as aware datetimes."""
    first = timezone.make_aware(datetime.combine(day, time.min))
    return first, first + timedelta(days=1)


DERIVED_METERS = (
    "db_rows",
    "db_bytes",
    "storage.exports",
    "storage.attachments",
    "storage.certificates",
    "job_ms",
    "events_delivered",
    "procedures_filed.online",
    "procedures_filed.counter",
    *APP_METERS,
)


@cache
def _gyomu_by_package() -> dict[str, str]:
    return {m.django_app: m.gyomu or PLATFORM for m in installed().values()}


@cache
def _gyomu_by_job_kind() -> dict[str, str]:
    return {kind: m.gyomu or PLATFORM for m in installed().values() for kind in m.job_kinds}


@cache
def _gyomu_by_event_type() -> dict[str, str]:
    return {event: m.gyomu or PLATFORM for m in installed().values() for event in m.events}


def tenant_tables() -> list[tuple[type[models.Model], str]]:
    """Every table with a municipality column, with the 業務 of the app that owns it."""
    out = []
    for model in apps.get_models():
        field = next((f for f in model._meta.concrete_fields if f.name == "municipality"), None)
        if field is None or model._meta.proxy:
            continue
        out.append((model, _gyomu_by_package().get(model._meta.app_config.name, PLATFORM)))
    return sorted(out, key=lambda pair: pair[0]._meta.db_table)


def _row_bytes_sql(model: type[models.Model], vendor: str) -> str:
    table = model._meta.db_table
    if vendor == "postgresql":
        return f'SELECT count(*), coalesce(sum(pg_column_size(t.*)), 0) FROM "{table}" t WHERE municipality_id = %s'  # noqa: S608
    columns = " + ".join(f'coalesce(length(CAST("{f.column}" AS BLOB)), 0)' for f in model._meta.concrete_fields)
    return f'SELECT count(*), coalesce(sum({columns}), 0) FROM "{table}" WHERE municipality_id = %s'  # noqa: S608


def table_usage(ctx: TenantContext) -> dict[str, tuple[int, int]]:
    """(rows, bytes) of the municipality per 業務, over every tenant table (under its tenant block)."""
    totals: dict[str, list[int]] = defaultdict(lambda: [0, 0])
    with bound(ctx):
        conn = tenant_connection()
        with conn.cursor() as cursor:
            for model, gyomu in tenant_tables():
                cursor.execute(_row_bytes_sql(model, conn.vendor), [ctx.tenant_code])
                rows, size = cursor.fetchone()
                totals[gyomu][0] += int(rows)
                totals[gyomu][1] += int(size)
    return {g: (r, b) for g, (r, b) in totals.items()}


@dataclass(frozen=True)
class Closed:
    lg_code: str
    readings: int


def derived(ctx: TenantContext, day: date) -> list[tuple[str, str, int]]:
    """(業務, meter, quantity) of the derived meters of ``day``."""
    start, end = day_bounds(day)
    rows: list[tuple[str, str, int]] = []
    for gyomu, (count, size) in sorted(table_usage(ctx).items()):
        rows += [(gyomu, "db_rows", count), (gyomu, "db_bytes", size)]
    files = queries.attachment_bytes(ctx)
    rows += [
        (PLATFORM, "storage.exports", queries.export_bytes(ctx)),
        (PLATFORM, "storage.attachments", files["attachments"]),
        (PLATFORM, "storage.certificates", files["certificates"]),
    ]
    job_ms: dict[str, float] = defaultdict(float)
    for kind, since, until in queries.jobs_overlapping(ctx, start, end):
        job_ms[_gyomu_by_job_kind().get(kind, PLATFORM)] += max(0.0, (until - since).total_seconds() * 1000)
    rows += [(g, "job_ms", max(1, round(ms))) for g, ms in sorted(job_ms.items())]
    delivered: dict[str, int] = defaultdict(int)
    for event_type, n in queries.events_delivered(ctx, start, end).items():
        delivered[_gyomu_by_event_type().get(event_type, PLATFORM)] += n
    rows += [(g, "events_delivered", n) for g, n in sorted(delivered.items())]
    for channel, n in sorted(queries.procedures_filed(ctx, start, end).items()):
        rows.append((PLATFORM, f"procedures_filed.{channel}", n))
    rows += app_usage(ctx, day)
    return rows


def app_usage(ctx: TenantContext, day: date) -> list[tuple[str, str, int]]:
    out = []
    for m in installed().values():
        if not m.usage:
            continue
        reported: Mapping[str, Any] = resolve(m.usage)(ctx, day)
        for meter, quantity in reported.items():
            if meter not in APP_METERS:
                raise ValueError(f"app {m.id!r} reports an unknown usage meter {meter!r} (known: {APP_METERS})")
            out.append((m.gyomu or PLATFORM, meter, int(quantity)))
    return out


def close_day(day: date, lg_codes: Iterable[str]) -> list[Closed]:
    """Flush this process's tally, then derive and store the day's readings for each municipality."""
    metering.flush()
    closed = []
    for code in lg_codes:
        ctx = TenantContext.system(code, purpose="ops.usage_close", actor_name="usage_close")
        closed.append(Closed(code, replace_meters(ctx, day, DERIVED_METERS, derived(ctx, day))))
    return closed
