"""Reads of staff accounts, always within the caller's municipality."""

from __future__ import annotations

from lgcloud.audit.actions import record
from lgcloud.core.permissions import PlatformPermission
from lgcloud.core.tenancy import TenantContext, bound

from .models import ApiToken, Staff


def list_staff(ctx: TenantContext, *, include_inactive: bool = True) -> list[Staff]:
    ctx.require(PlatformPermission.STAFF_READ)
    with bound(ctx):
        qs = Staff.objects.filter(municipality_id=ctx.lg_code).prefetch_related("role_assignments")
        if not include_inactive:
            qs = qs.filter(is_active=True)
        rows = list(qs.order_by("username"))
        record(
            ctx,
            "accounts.staff.listed",
            subject_type="staff_list",
            subject_id=len(rows),
            fields=["username", "display_name", "roles", "is_active"],
        )
        return rows


def list_own_tokens(ctx: TenantContext) -> list[ApiToken]:
    if ctx.actor_id is None:
        return []
    with bound(ctx):
        return list(ApiToken.objects.filter(municipality_id=ctx.lg_code, staff_id=ctx.actor_id).order_by("-created_at"))


def find_staff_by_username(lg_code: str | None, username: str) -> list[Staff]:
    """For platform scripts: the staff named ``username`` (in one municipality, or anywhere)."""
    from lgcloud.core.tenancy import platform_scope

    with platform_scope():
        qs = Staff.objects.filter(username=username).select_related("municipality")
        if lg_code is not None:
            qs = qs.filter(municipality_id=lg_code or None)
        return list(qs)
