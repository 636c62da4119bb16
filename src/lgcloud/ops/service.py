"""The service view: per municipality and 業務, indicators against the SLOs (docs/service.md).

Request indicators (latency percentiles, error rate, 429/503) come from the metered latency
buckets and status counters of the window (UsageDay, so every worker's requests count);
job backlog, event lag and webhook failures from the municipality's tables now; the audit
sealer's lag from the audit app's hook :data:`SEALER_LAG_HOOK` when it is installed.
"""

from __future__ import annotations

import importlib
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from functools import cache
from pathlib import Path
from typing import Any

from django.utils import timezone

from lgcloud.contract import ParameterSet, TenantContext
from lgcloud.contract.discovery import installed
from lgcloud.municipalities.queries import get_municipality, list_lg_codes

from . import queries
from .charges import gyomu_name
from .metering import LATENCY_BUCKETS_MS
from .metrics import SLO_BREACHED, SLO_VALUE, municipality_label
from .models import PLATFORM

PARAMETERS = ParameterSet(Path(__file__).resolve().parent / "parameters")
WINDOW_DAYS = 7

# The audit sealer (another part of the platform) reports how far behind sealing is for a
# municipality: ``sealer_lag(ctx) -> float | None`` (seconds). Until it is installed the view
# shows 「未計測」 and no alert (docs/service.md says so).
SEALER_LAG_HOOK = "lgcloud.audit.queries:sealer_lag"


@cache
def _sealer_lag() -> Callable[[TenantContext], float | None] | None:
    module, _, name = SEALER_LAG_HOOK.partition(":")
    try:
        found = getattr(importlib.import_module(module), name, None)
    except ImportError:
        return None
    return found if callable(found) else None


def sealer_installed() -> bool:
    return _sealer_lag() is not None


@dataclass(frozen=True)
class Slo:
    latency_p95_ms: int
    latency_p99_ms: int
    error_rate_permille: int
    refused_rate_permille: int
    job_backlog_seconds: int
    event_lag_seconds: int
    webhook_failures: int
    audit_sealer_lag_seconds: int
    min_requests: int


def slo(on: date) -> Slo:
    return Slo(**{name: int(PARAMETERS.value(f"slo.{name}", on)) for name in Slo.__dataclass_fields__})


def percentile_ms(buckets: dict[str, int], q: float) -> int | None:
    """The upper bound (ms) of the bucket holding the q-quantile; None when empty, -1 past the last bound."""
    total = sum(buckets.values())
    if not total:
        return None
    rank = q * total
    seen = 0
    for upper in LATENCY_BUCKETS_MS:
        seen += buckets.get(f"latency.le_{upper}", 0)
        if seen >= rank:
            return upper
    return -1


@dataclass(frozen=True)
class Alert:
    lg_code: str
    municipality: str
    gyomu: str
    indicator: str
    value: str
    objective: str


@dataclass
class GyomuService:
    gyomu: str
    name: str
    requests: int = 0
    p50_ms: int | None = None
    p95_ms: int | None = None
    p99_ms: int | None = None
    errors: int = 0
    s429: int = 0
    s503: int = 0
    jobs_waiting: int = 0
    job_oldest_seconds: float = 0.0
    breaches: list[str] = field(default_factory=list)

    @property
    def error_rate_permille(self) -> float:
        return 1000 * self.errors / self.requests if self.requests else 0.0

    @property
    def refused_rate_permille(self) -> float:
        return 1000 * (self.s429 + self.s503) / self.requests if self.requests else 0.0


@dataclass
class MunicipalityService:
    lg_code: str
    name: str
    start: date
    end: date
    gyomu: list[GyomuService]
    linkage: queries.LinkageState
    sealer_lag_seconds: float | None
    alerts: list[Alert]


def _ms(v: int | None) -> str:
    return "―" if v is None else ("5000 ms 超" if v == -1 else f"{v} ms 以下")


def service(ctx: TenantContext, name: str, *, now: datetime | None = None) -> MunicipalityService:
    """The municipality's indicators over the window, each 業務 judged against the SLOs."""
    now = now or timezone.now()
    end = timezone.localdate(now)
    start = end - timedelta(days=WINDOW_DAYS - 1)
    objectives = slo(end)
    rows = queries.usage_totals(ctx, start, end)
    by_gyomu: dict[str, GyomuService] = {}

    def entry(code: str) -> GyomuService:
        return by_gyomu.setdefault(code, GyomuService(code, gyomu_name(code)))

    buckets: dict[str, dict[str, int]] = {}
    for (g, meter), q in rows.items():
        e = entry(g)
        if meter.startswith("requests."):
            e.requests += q
        elif meter.startswith("latency."):
            buckets.setdefault(g, {})[meter] = q
        elif meter == "status.5xx":
            e.errors += q
        elif meter == "status.429":
            e.s429 += q
        elif meter == "status.503":
            e.s503 += q
    for g, b in buckets.items():
        e = entry(g)
        e.p50_ms, e.p95_ms, e.p99_ms = (percentile_ms(b, q) for q in (0.5, 0.95, 0.99))
    job_gyomu = {kind: m.gyomu or PLATFORM for m in installed().values() for kind in m.job_kinds}
    for backlog in queries.job_backlog(ctx, now):
        e = entry(job_gyomu.get(backlog.kind, PLATFORM))
        e.jobs_waiting += backlog.waiting
        e.job_oldest_seconds = max(e.job_oldest_seconds, backlog.oldest_seconds)
    linkage = queries.linkage_state(ctx, now - timedelta(days=WINDOW_DAYS), now)
    hook = _sealer_lag()
    sealer = hook(ctx) if hook is not None else None
    alerts: list[Alert] = []

    def alert(gyomu: str, indicator: str, value: str, objective: str) -> None:
        alerts.append(Alert(ctx.tenant_code, name, gyomu, indicator, value, objective))

    for e in sorted(by_gyomu.values(), key=lambda x: x.gyomu):
        if e.requests >= objectives.min_requests:
            if e.p95_ms is not None and (e.p95_ms == -1 or e.p95_ms > objectives.latency_p95_ms):
                e.breaches.append("p95")
                alert(e.name, "応答時間 p95", _ms(e.p95_ms), f"{objectives.latency_p95_ms} ms 以下")
            if e.p99_ms is not None and (e.p99_ms == -1 or e.p99_ms > objectives.latency_p99_ms):
                e.breaches.append("p99")
                alert(e.name, "応答時間 p99", _ms(e.p99_ms), f"{objectives.latency_p99_ms} ms 以下")
            if e.error_rate_permille > objectives.error_rate_permille:
                e.breaches.append("errors")
                alert(e.name, "エラー率", f"{e.error_rate_permille:.1f}‰", f"{objectives.error_rate_permille}‰ 以下")
            if e.refused_rate_permille > objectives.refused_rate_permille:
                e.breaches.append("refused")
                alert(
                    e.name,
                    "429・503 の割合",
                    f"{e.refused_rate_permille:.1f}‰",
                    f"{objectives.refused_rate_permille}‰ 以下",
                )
        if e.jobs_waiting and e.job_oldest_seconds > objectives.job_backlog_seconds:
            e.breaches.append("jobs")
            alert(
                e.name,
                "バッチの滞留",
                f"{e.job_oldest_seconds / 60:.0f} 分",
                f"{objectives.job_backlog_seconds // 60} 分以内",
            )
    if linkage.event_lag_seconds > objectives.event_lag_seconds:
        alert(
            "連携",
            "イベント処理の遅延",
            f"{linkage.event_lag_seconds:.0f} 秒",
            f"{objectives.event_lag_seconds} 秒以内",
        )
    if linkage.webhook_dead > objectives.webhook_failures:
        alert("連携", "Webhook 配信停止", f"{linkage.webhook_dead} 件", f"{objectives.webhook_failures} 件以下")
    if sealer is not None and sealer > objectives.audit_sealer_lag_seconds:
        alert("監査ログ", "封印の遅れ", f"{sealer:.0f} 秒", f"{objectives.audit_sealer_lag_seconds} 秒以内")
    return MunicipalityService(
        ctx.tenant_code,
        name,
        start,
        end,
        sorted(by_gyomu.values(), key=lambda x: x.gyomu),
        linkage,
        sealer,
        alerts,
    )


def export_gauges(views: list[MunicipalityService]) -> None:
    """The service view's indicators as Prometheus gauges (bounded labels, as the counters)."""
    for view in views:
        label = municipality_label(view.lg_code)
        for e in view.gyomu:
            values: dict[str, Any] = {
                "requests": e.requests,
                "latency_p95_ms": e.p95_ms,
                "latency_p99_ms": e.p99_ms,
                "error_rate_permille": e.error_rate_permille,
                "refused_total": e.s429 + e.s503,
                "job_backlog_seconds": e.job_oldest_seconds,
            }
            for indicator, value in values.items():
                if value is not None:
                    SLO_VALUE.labels(label, e.gyomu, indicator).set(float(value))
            for indicator in ("p95", "p99", "errors", "refused", "jobs"):
                SLO_BREACHED.labels(label, e.gyomu, indicator).set(1 if indicator in e.breaches else 0)
        SLO_VALUE.labels(label, PLATFORM, "event_lag_seconds").set(view.linkage.event_lag_seconds)
        SLO_VALUE.labels(label, PLATFORM, "webhook_dead").set(view.linkage.webhook_dead)
        if view.sealer_lag_seconds is not None:
            SLO_VALUE.labels(label, PLATFORM, "audit_sealer_lag_seconds").set(view.sealer_lag_seconds)


_gauges_at = 0.0


def refresh_service_gauges(*, max_age: float = 60.0) -> None:
    """Recompute the per-municipality gauges for /metrics at most once a minute per process."""
    global _gauges_at
    if time.monotonic() - _gauges_at < max_age:
        return
    _gauges_at = time.monotonic()
    export_gauges(all_services("metrics"))


def all_services(actor_name: str) -> list[MunicipalityService]:
    """Each municipality on the platform, read in its own tenant block."""
    views = []
    for code in list_lg_codes(on_platform_only=True):
        municipality = get_municipality(code)
        tenant = TenantContext.system(code, purpose="ops.service", actor_name=actor_name)
        views.append(service(tenant, municipality.name if municipality else code))
    return views
