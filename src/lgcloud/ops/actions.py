"""Writes of the ops app: usage readings, the FY2018 baseline, open-data releases.

Usage readings are the platform's own bookkeeping, written by the metering flush and the
day's close as the system: they are not audited row by row (they are themselves a log,
reproducible from the raw records and the durable tables, docs/metering.md). What a person
does (the baseline, preparing and approving a release) is audited in its transaction.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping
from datetime import date

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import Max
from django.utils import timezone

from lgcloud.audit.actions import record as audit
from lgcloud.core.permissions import PlatformPermission
from lgcloud.core.placement import tenant_connection
from lgcloud.core.tenancy import TenantContext, bound

from . import opendata
from .models import CostBaseline, OpenDataRelease, ReleaseStatus, UsageDay
from .queries import BASELINE_FISCAL_YEAR, latest_published

Pending = Mapping[tuple[str | None, date, str, str], int]

_UPSERT = (
    "INSERT INTO ops_usageday (municipality_id, day, gyomu, meter, quantity) VALUES (%s, %s, %s, %s, %s) "
    "ON CONFLICT (municipality_id, day, gyomu, meter) "
    "DO UPDATE SET quantity = ops_usageday.quantity + excluded.quantity"
)
_UPSERT_PLATFORM = (
    "INSERT INTO ops_platformusageday (day, meter, quantity) VALUES (%s, %s, %s) "
    "ON CONFLICT (day, meter) DO UPDATE SET quantity = ops_platformusageday.quantity + excluded.quantity"
)


def add_usage(ctx: TenantContext, pending: Pending) -> int:
    """Add a worker's tally: one transaction per municipality, inside its tenant block (never mixed).

    ``ctx`` is the platform's own (the metering flush), which writes for every municipality.
    """
    if not ctx.is_system:
        raise PermissionDenied
    by_code: dict[str | None, list[tuple[date, str, str, int]]] = defaultdict(list)
    for (lg_code, day, gyomu, meter), quantity in pending.items():
        if quantity:
            by_code[lg_code].append((day, gyomu, meter, quantity))
    touched = 0
    for lg_code, rows in sorted(by_code.items(), key=lambda item: item[0] or ""):
        if lg_code is None:
            with transaction.atomic(), tenant_connection().cursor() as cursor:
                # Several 業務 of the platform's own use fold into one meter per day.
                merged: dict[tuple[date, str], int] = defaultdict(int)
                for day, _gyomu, meter, quantity in rows:
                    merged[(day, meter)] += quantity
                cursor.executemany(_UPSERT_PLATFORM, [(d, m, q) for (d, m), q in sorted(merged.items())])
        else:
            ctx = TenantContext.system(lg_code, purpose="ops.metering", actor_name="metering")
            with bound(ctx), tenant_connection().cursor() as cursor:
                cursor.executemany(_UPSERT, [(lg_code, d, g, m, q) for d, g, m, q in sorted(rows)])
        touched += len(rows)
    return touched


def replace_meters(ctx: TenantContext, day: date, meters: Iterable[str], rows: Iterable[tuple[str, str, int]]) -> int:
    """Set the derived meters of a closed day (every reading of ``meters`` that day is replaced)."""
    if not ctx.is_system:
        raise PermissionDenied
    with bound(ctx):
        UsageDay.objects.filter(municipality_id=ctx.tenant_code, day=day, meter__in=list(meters)).delete()
        created = UsageDay.objects.bulk_create(
            [UsageDay(municipality_id=ctx.tenant_code, day=day, gyomu=g, meter=m, quantity=q) for g, m, q in rows if q]
        )
    return len(created)


def set_baseline(ctx: TenantContext, *, annual_yen: int, note: str) -> CostBaseline:
    """The municipality's FY2018 cost of the systems lgcloud replaces, as its 団体管理者 states it."""
    ctx.require(PlatformPermission.USAGE_MANAGE)
    errors: dict[str, list[str]] = {}
    if not isinstance(annual_yen, int) or annual_yen <= 0:
        errors["annual_yen"] = ["1 円以上の金額（円、整数）を入力してください。"]
    elif annual_yen > 10**13:
        errors["annual_yen"] = ["金額が大きすぎます。年間の経費を円で入力してください。"]
    if len(note) > 400:
        errors["note"] = ["400 文字以内で入力してください。"]
    if errors:
        raise ValidationError(errors)
    with bound(ctx):
        found, _ = CostBaseline.objects.update_or_create(
            municipality_id=ctx.tenant_code,
            fiscal_year=BASELINE_FISCAL_YEAR,
            defaults={
                "annual_yen": annual_yen,
                "note": note,
                "entered_by": ctx.actor_name,
                "entered_at": timezone.now(),
            },
        )
        audit(
            ctx,
            "ops.baseline.set",
            subject_type="cost_baseline",
            subject_id=BASELINE_FISCAL_YEAR,
            fields=["annual_yen", "note"],
        )
    return found


def prepare_release(ctx: TenantContext, *, reference_date: date, since: date) -> OpenDataRelease:
    """A draft release: the register's aggregates as of ``reference_date``, suppressed, awaiting approval."""
    ctx.require(PlatformPermission.OPENDATA_APPROVE)
    if since > reference_date:
        raise ValidationError({"changes_since": ["異動の集計開始日は基準日以前の日付にしてください。"]})
    if reference_date > timezone.localdate():
        raise ValidationError({"reference_date": ["基準日に未来の日付は指定できません。"]})
    previous = latest_published(ctx)
    basis = (
        opendata.Basis(previous.reference_date, previous.changes_since, previous.suppressed)
        if previous is not None
        else None
    )
    prepared = opendata.prepare(ctx, reference_date, since, previous=basis)
    with bound(ctx):
        number = (
            OpenDataRelease.objects.filter(municipality_id=ctx.tenant_code).aggregate(n=Max("number"))["n"] or 0
        ) + 1
        release = OpenDataRelease.objects.create(
            municipality_id=ctx.tenant_code,
            number=number,
            reference_date=reference_date,
            changes_since=since,
            threshold=opendata.threshold(reference_date),
            tables=prepared.tables,
            suppressed=prepared.suppressed,
            sha256=prepared.sha256,
            prepared_by=ctx.actor_name,
            prepared_at=timezone.now(),
        )
        audit(ctx, "ops.opendata.prepared", subject_type="opendata_release", subject_id=number, fields=["tables"])
    return release


def approve_release(ctx: TenantContext, number: int) -> OpenDataRelease:
    """Publish a draft: only a 団体管理者 in person (not a command) approves what leaves the municipality."""
    ctx.require(PlatformPermission.OPENDATA_APPROVE)
    if ctx.actor_id is None:
        raise PermissionDenied("公表の承認は団体管理者が画面から行ってください。")
    with bound(ctx):
        release = (
            OpenDataRelease.objects.select_for_update().filter(municipality_id=ctx.tenant_code, number=number).first()
        )
        if release is None:
            raise ValidationError("公表データが見つかりません。")
        if release.status != ReleaseStatus.DRAFT:
            raise ValidationError("承認待ちの公表データではありません。")
        later = OpenDataRelease.objects.filter(
            municipality_id=ctx.tenant_code, status=ReleaseStatus.PUBLISHED, published_at__gt=release.prepared_at
        ).exists()
        if later:
            # Its suppression did not see the newer release: publishing it could undo the carried cells.
            raise ValidationError("より新しい公表データがあります。作成し直してください。")
        release.status = ReleaseStatus.PUBLISHED
        release.approved_by = ctx.actor_name
        release.published_at = timezone.now()
        release.save(update_fields=["status", "approved_by", "published_at"])
        audit(ctx, "ops.opendata.published", subject_type="opendata_release", subject_id=number, fields=["status"])
    return release
