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
