"""バッチ処理 pages: the municipality's batch jobs that the member of staff may see, and one job's counts and errors.

Each job is visible to staff holding the read permission of the app that ran it (core.jobs).
"""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from lgcloud.core import jobs
from lgcloud.core.pages import staff_page
from lgcloud.core.permissions import PlatformPermission
from lgcloud.core.tenancy import TenantContext


@staff_page(PlatformPermission.DASHBOARD_VIEW)
def job_list(request: HttpRequest, ctx: TenantContext) -> HttpResponse:
    return render(request, "web/jobs.html", {"rows": jobs.list_jobs(ctx)})


@staff_page(PlatformPermission.DASHBOARD_VIEW)
def job_detail(request: HttpRequest, ctx: TenantContext, job_id: int) -> HttpResponse:
    return render(request, "web/job.html", {"job": jobs.get_job(ctx, job_id)})
