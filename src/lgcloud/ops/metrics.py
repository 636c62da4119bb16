"""Prometheus metrics. Labels never carry personal data: route names, not paths."""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram

REGISTRY = CollectorRegistry(auto_describe=True)

REQUESTS = Counter("lgcloud_http_requests_total", "HTTP requests", ["method", "route", "status"], registry=REGISTRY)
LATENCY = Histogram(
    "lgcloud_http_request_duration_seconds",
    "Server-side request duration",
    ["method", "route"],
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.15, 0.25, 0.3, 0.5, 1, 2.5, 5),
    registry=REGISTRY,
)
DB_UP = Gauge("lgcloud_database_up", "1 when the last health check reached the database", registry=REGISTRY)
MUNICIPALITIES = Gauge("lgcloud_municipalities", "Municipalities in the directory", ["on_platform"], registry=REGISTRY)
AUDIT_SEAL_LAG = Gauge(
    "lgcloud_audit_seal_lag_seconds",
    "Age of the oldest audit record not yet sealed into its chain (0: none waits)",
    registry=REGISTRY,
)

# Per municipality and 業務 (docs/service.md). Cardinality is bounded: the 業務 label takes at
# most 21 values (001–020, platform), the municipality label only codes a context carried
# (never request input), at most LGCLOUD_METRICS_MAX_MUNICIPALITIES per process and then
# "other"; the latency histogram is per 業務 only.
TENANT_REQUESTS = Counter(
    "lgcloud_tenant_requests_total",
    "HTTP requests per municipality, 業務 and status class",
    ["lg_code", "gyomu", "status_class"],
    registry=REGISTRY,
)
TENANT_CPU = Counter(
    "lgcloud_tenant_cpu_seconds_total",
    "Server CPU seconds per municipality and 業務",
    ["lg_code", "gyomu"],
    registry=REGISTRY,
)
TENANT_LATENCY = Histogram(
    "lgcloud_gyomu_request_duration_seconds",
    "Server-side request duration per 業務",
    ["gyomu"],
    buckets=(0.05, 0.1, 0.2, 0.3, 0.5, 0.75, 1, 1.5, 2, 3, 5),
    registry=REGISTRY,
)
SLO_VALUE = Gauge(
    "lgcloud_slo_value",
    "The service view's indicators per municipality and 業務 (the last 24 hours)",
    ["lg_code", "gyomu", "indicator"],
    registry=REGISTRY,
)
SLO_BREACHED = Gauge(
    "lgcloud_slo_breached", "1 when the indicator misses its SLO", ["lg_code", "gyomu", "indicator"], registry=REGISTRY
)

_labelled: set[str] = set()


def municipality_label(lg_code: str | None) -> str:
    """The municipality label value: its code while under the cap, ``other`` past it, ``platform`` for none."""
    from django.conf import settings

    if not lg_code:
        return "platform"
    if lg_code in _labelled:
        return lg_code
    if len(_labelled) >= settings.METRICS_MAX_MUNICIPALITIES:
        return "other"
    _labelled.add(lg_code)
    return lg_code
