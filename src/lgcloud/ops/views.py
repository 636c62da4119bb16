"""``/healthz`` (load balancer) and ``/metrics`` (Prometheus)."""

from __future__ import annotations

import hmac

from django.conf import settings
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.views.decorators.http import require_GET
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

from lgcloud.municipalities.queries import count_on_platform

from .health import check_health
from .metrics import MUNICIPALITIES, REGISTRY
from .service import refresh_service_gauges


@require_GET
def healthz(request: HttpRequest) -> JsonResponse:
    health = check_health()
    return JsonResponse(
        {
            "status": "ok" if health.ok else "error",
            "database": health.database,
            "latency_ms": round(health.latency_ms, 2),
        },
        status=200 if health.ok else 503,
    )


@require_GET
def metrics(request: HttpRequest) -> HttpResponse:
    token = settings.METRICS_TOKEN
    if token:
        supplied = request.headers.get("Authorization", "").removeprefix("Bearer ")
        if not hmac.compare_digest(supplied.encode(), token.encode()):
            return HttpResponse("metrics token required\n", status=401, content_type="text/plain")
    check_health()
    refresh_service_gauges()
    on, off = count_on_platform()
    MUNICIPALITIES.labels("true").set(on)
    MUNICIPALITIES.labels("false").set(off)
    return HttpResponse(generate_latest(REGISTRY), content_type=CONTENT_TYPE_LATEST)
