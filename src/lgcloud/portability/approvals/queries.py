"""Reads of export requests: the list, and what the pages and the API show of one."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from django.http import Http404
from django.utils import timezone

from lgcloud.core import jobs
from lgcloud.core.models import Job
from lgcloud.core.tenancy import TenantContext, bound
from lgcloud.portability.models import ExportRequest
from lgcloud.registry.permissions import RegistryPermission

from .access import APPROVE, REQUEST, require_see

State = ExportRequest.State


def list_export_requests(ctx: TenantContext, *, limit: int = 100) -> list[ExportRequest]:
    """The municipality's latest requests, newest first."""
    require_see(ctx)
    with bound(ctx):
        return list(
            ExportRequest.objects.filter(municipality_id=ctx.tenant_code).order_by("-requested_at", "-pk")[:limit]
        )


@dataclass(frozen=True)
class Allowed:
    """What the caller may do with one request now (the pages show only these buttons)."""

    approve: bool
    reject: bool
    cancel: bool


def allowed_steps(ctx: TenantContext, req: ExportRequest, *, now: datetime | None = None) -> Allowed:
    pending = req.state == State.REQUESTED and (now or timezone.now()) < req.expires_at
    other = req.requester_id != ctx.actor_id
    decide = pending and other and ctx.has(APPROVE)
    return Allowed(
        approve=decide and ctx.has(RegistryPermission.RESIDENT_EXPORT),
        reject=decide,
        cancel=pending and not other and ctx.has(REQUEST),
    )


def shown_state(ctx: TenantContext, req: ExportRequest, *, now: datetime | None = None) -> str:
    """The state as people should read it: a pending request past its deadline is 期限切れ already."""
    if req.state == State.REQUESTED and (now or timezone.now()) >= req.expires_at:
        return str(State.EXPIRED.label)
    return str(req.get_state_display())


def job_of(ctx: TenantContext, req: ExportRequest) -> Job | None:
    """The batch job that runs (or ran) the export, for its state and attempts; None before it starts."""
    if req.job_id is None:
        return None
    try:
        return jobs.get_job(ctx, req.job_id)
    except Http404:  # a job the caller may not see is simply not shown
        return None
