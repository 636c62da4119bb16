"""``/healthz`` (load balancer), ``/metrics`` (Prometheus), the operator's 稼働状況 page and the
municipality's バッチ処理 pages (jobs of the apps the member of staff works with)."""

from __future__ import annotations

import hmac

from django.conf import settings
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render
from django.views.decorators.http import require_GET
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

from lgcloud.core import jobs
from lgcloud.core.pages import staff_page
from lgcloud.core.permissions import PlatformPermission
from lgcloud.core.tenancy import TenantContext
from lgcloud.municipalities import queries as municipality_queries
from lgcloud.municipalities.queries import count_on_platform

from .health import check_audit_seal, check_health
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
    if check_health().ok:
        check_audit_seal()
        refresh_service_gauges()
    on, off = count_on_platform()
    MUNICIPALITIES.labels("true").set(on)
    MUNICIPALITIES.labels("false").set(off)
    return HttpResponse(generate_latest(REGISTRY), content_type=CONTENT_TYPE_LATEST)


@staff_page(PlatformPermission.PLATFORM_HEALTH_READ)
def operator_health(request: HttpRequest, ctx: TenantContext) -> HttpResponse:
    on, off = municipality_queries.count_on_platform()
    return render(
        request,
        "ops/health.html",
        {
            "health": check_health(),
            "audit_seal": check_audit_seal(),
            "on_platform": on,
            "listed": on + off,
            "by_kind": municipality_queries.count_by_kind(),
        },
    )


@staff_page(PlatformPermission.DASHBOARD_VIEW)
def job_list(request: HttpRequest, ctx: TenantContext) -> HttpResponse:
    return render(request, "ops/jobs.html", {"rows": jobs.list_jobs(ctx)})


@staff_page(PlatformPermission.DASHBOARD_VIEW)
def job_detail(request: HttpRequest, ctx: TenantContext, job_id: int) -> HttpResponse:
    return render(request, "ops/job.html", {"job": jobs.get_job(ctx, job_id)})
