"""Reads of usage, the baseline, open-data releases and the service state (tenant context first).

Usage numbers are the platform's readings about a municipality, not personal data: a
municipality's own staff (団体管理者) read its own, the operator reads all of them (each
municipality in its own tenant block), and the charge formula needs everybody's totals.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path

from django.conf import settings
from django.db.models import Count, Max, Min, Q, Sum
from django.http import Http404

from lgcloud.core.models import Job
from lgcloud.core.tenancy import TenantContext, bound
from lgcloud.linkage.models import ConsumerCursor, Delivery, DeliveryAttempt, DeliveryStatus, Event
from lgcloud.procedures.models import Attachment, Submission

from .models import CostBaseline, OpenDataRelease, PlatformUsageDay, ReleaseStatus, UsageDay

BASELINE_FISCAL_YEAR = 2018  # 平成30年度: the programme's reference year


# --- usage -----------------------------------------------------------------------------------


def usage_rows(ctx: TenantContext, start: date, end: date) -> list[tuple[date, str, str, int]]:
    """(day, 業務, meter, quantity) of the municipality, ``start`` to ``end`` inclusive."""
    with bound(ctx):
        return list(
            UsageDay.objects.filter(municipality_id=ctx.tenant_code, day__gte=start, day__lte=end)
            .order_by("day", "gyomu", "meter")
            .values_list("day", "gyomu", "meter", "quantity")
        )


def usage_totals(ctx: TenantContext, start: date, end: date, prefix: str = "") -> dict[tuple[str, str], int]:
    """Σ quantity per (業務, meter) over the days (meters starting with ``prefix``)."""
    with bound(ctx):
        rows = (
            UsageDay.objects.filter(
                municipality_id=ctx.tenant_code, day__gte=start, day__lte=end, meter__startswith=prefix
            )
            .values_list("gyomu", "meter")
            .annotate(total=Sum("quantity"))
        )
        return {(g, m): int(t or 0) for g, m, t in rows}


def days_with(ctx: TenantContext, start: date, end: date, meter: str) -> int:
    """Days on which a gauge was read (to average a snapshot over a month)."""
    with bound(ctx):
        return (
            UsageDay.objects.filter(municipality_id=ctx.tenant_code, day__gte=start, day__lte=end, meter=meter)
            .values("day")
            .distinct()
            .count()
        )


def last_reading(ctx: TenantContext, end: date, meter: str) -> int:
    """A gauge's last reading on or before ``end`` (all 業務 together)."""
    with bound(ctx):
        last = UsageDay.objects.filter(municipality_id=ctx.tenant_code, day__lte=end, meter=meter).aggregate(
            d=Max("day")
        )["d"]
        if last is None:
            return 0
        total = UsageDay.objects.filter(municipality_id=ctx.tenant_code, day=last, meter=meter).aggregate(
            s=Sum("quantity")
        )["s"]
        return int(total or 0)


def platform_usage(ctx: TenantContext, start: date, end: date) -> dict[str, int]:
    """The platform's own use (requests that worked for no municipality), per meter."""
    if not (ctx.is_platform or ctx.is_system):
        raise Http404
    rows = (
        PlatformUsageDay.objects.filter(day__gte=start, day__lte=end)
        .values_list("meter")
        .annotate(total=Sum("quantity"))
    )
    return {m: int(t or 0) for m, t in rows}


# --- the baseline ------------------------------------------------------------------------------


def baseline(ctx: TenantContext) -> CostBaseline | None:
    with bound(ctx):
        return CostBaseline.objects.filter(municipality_id=ctx.tenant_code, fiscal_year=BASELINE_FISCAL_YEAR).first()


# --- derived meters (read when a day is closed) ------------------------------------------------


def jobs_overlapping(ctx: TenantContext, start: datetime, end: datetime) -> list[tuple[str, datetime, datetime]]:
    """(kind, from, to) of every batch run that was running during [start, end) (clipped to it)."""
    with bound(ctx):
        rows = list(
            Job.objects.filter(municipality_id=ctx.tenant_code, started_at__lt=end, dry_run=False)
            .filter(Q(finished_at__gte=start) | Q(finished_at=None, heartbeat_at__gte=start))
            .values_list("kind", "started_at", "finished_at", "heartbeat_at")
        )
    out: list[tuple[str, datetime, datetime]] = []
    for kind, started, finished, heartbeat in rows:
        if started is None:  # not started yet: no time to count
            continue
        stop = finished or heartbeat or started
        out.append((kind, max(started, start), min(stop, end)))
    return out


def events_delivered(ctx: TenantContext, start: datetime, end: datetime) -> dict[str, int]:
    """Webhook deliveries that reached their receiver in [start, end), per event type."""
    with bound(ctx):
        rows = (
            Delivery.objects.filter(municipality_id=ctx.tenant_code, delivered_at__gte=start, delivered_at__lt=end)
            .values_list("event__type")
            .annotate(n=Count("id"))
        )
        return {t: int(n) for t, n in rows}


def procedures_filed(ctx: TenantContext, start: datetime, end: datetime) -> dict[str, int]:
    """Procedures filed in [start, end), per channel (online by the resident, counter by staff)."""
    with bound(ctx):
        rows = (
            Submission.objects.filter(municipality_id=ctx.tenant_code, submitted_at__gte=start, submitted_at__lt=end)
            .values_list("channel")
            .annotate(n=Count("id"))
        )
        return {c: int(n) for c, n in rows}


def attachment_bytes(ctx: TenantContext) -> dict[str, int]:
    """Bytes of files stored with procedures: ``certificates`` (issued 住民票の写し) and ``attachments``."""
    with bound(ctx):
        rows = Attachment.objects.filter(municipality_id=ctx.tenant_code).values_list("name").annotate(size=Sum("size"))
        out = {"attachments": 0, "certificates": 0}
        for name, size in rows:
            out["certificates" if name == "issued_certificate" else "attachments"] += int(size or 0)
        return out


def export_bytes(ctx: TenantContext) -> int:
    """Bytes of the municipality's standard-layout exports kept on the server (its own folder only)."""
    folder = Path(settings.EXPORT_DIR) / ctx.tenant_code
    if not folder.is_dir():
        return 0
    return sum(p.stat().st_size for p in folder.rglob("*") if p.is_file())


# --- service state -----------------------------------------------------------------------------


@dataclass(frozen=True)
class JobBacklog:
    kind: str
    waiting: int  # runs not finished (running or interrupted)
    oldest_seconds: float


def job_backlog(ctx: TenantContext, now: datetime) -> list[JobBacklog]:
    with bound(ctx):
        rows = (
            Job.objects.filter(
                municipality_id=ctx.tenant_code, state__in=[Job.State.RUNNING, Job.State.INTERRUPTED], dry_run=False
            )
            .values_list("kind")
            .annotate(n=Count("id"), oldest=Min("created_at"))
        )
        return [JobBacklog(k, int(n), (now - oldest).total_seconds()) for k, n, oldest in rows]


@dataclass(frozen=True)
class LinkageState:
    event_lag_events: int  # events the slowest internal consumer has not handled yet
    event_lag_seconds: float  # age of the oldest of them
    webhook_pending: int
    webhook_oldest_pending_seconds: float
    webhook_dead: int  # deliveries given up (in the window)
    webhook_failed_attempts: int  # attempts that failed (in the window)


def linkage_state(ctx: TenantContext, since: datetime, now: datetime) -> LinkageState:
    with bound(ctx):
        code = ctx.tenant_code
        last = Event.objects.filter(municipality_id=code).aggregate(s=Max("sequence"))["s"] or 0
        slowest = ConsumerCursor.objects.filter(municipality_id=code).aggregate(s=Min("last_sequence"))["s"]
        lag_events, lag_seconds = 0, 0.0
        if slowest is not None and slowest < last:
            lag_events = int(last - slowest)
            first = (
                Event.objects.filter(municipality_id=code, sequence__gt=slowest)
                .order_by("sequence")
                .values_list("occurred_at", flat=True)
                .first()
            )
            lag_seconds = (now - first).total_seconds() if first else 0.0
        pending = Delivery.objects.filter(municipality_id=code, status=DeliveryStatus.PENDING).aggregate(
            n=Count("id"), oldest=Min("created_at")
        )
        dead = Delivery.objects.filter(
            municipality_id=code, status=DeliveryStatus.DEAD, next_attempt_at__gte=since
        ).count()
        failed = DeliveryAttempt.objects.filter(municipality_id=code, attempted_at__gte=since, succeeded=False).count()
    oldest = pending["oldest"]
    return LinkageState(
        lag_events,
        lag_seconds,
        int(pending["n"] or 0),
        (now - oldest).total_seconds() if oldest else 0.0,
        dead,
        failed,
    )


# --- open data ---------------------------------------------------------------------------------


def releases(ctx: TenantContext, *, published_only: bool = False) -> list[OpenDataRelease]:
    with bound(ctx):
        rows = OpenDataRelease.objects.filter(municipality_id=ctx.tenant_code)
        if published_only:
            rows = rows.filter(status=ReleaseStatus.PUBLISHED)
        return list(rows.order_by("-number"))


def release(ctx: TenantContext, number: int, *, published_only: bool = False) -> OpenDataRelease:
    """One release; "not found" alike for a missing one and (for the public) one not published."""
    with bound(ctx):
        found = OpenDataRelease.objects.filter(municipality_id=ctx.tenant_code, number=number).first()
    if found is None or (published_only and found.status != ReleaseStatus.PUBLISHED):
        raise Http404("公表データが見つかりません。")
    return found


def latest_published(ctx: TenantContext) -> OpenDataRelease | None:
    with bound(ctx):
        return (
            OpenDataRelease.objects.filter(municipality_id=ctx.tenant_code, status=ReleaseStatus.PUBLISHED)
            .order_by("-number")
            .first()
        )


def municipalities_with_releases(ctx: TenantContext, lg_codes: list[str]) -> dict[str, int]:
    """Of ``lg_codes``, those with a published release (number of the latest), each in its own block."""
    out: dict[str, int] = defaultdict(int)
    for code in lg_codes:
        latest = latest_published(TenantContext.system(code, purpose=ctx.purpose, actor_name=ctx.actor_name))
        if latest is not None:
            out[code] = latest.number
    return dict(out)
