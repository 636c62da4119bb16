"""One export request, for someone who may see export requests of its municipality."""

from __future__ import annotations

from django.core.exceptions import PermissionDenied
from django.http import Http404

from lgcloud.core.permissions import PlatformPermission
from lgcloud.core.tenancy import TenantContext, bound
from lgcloud.portability.models import ExportRequest

REQUEST = PlatformPermission.EXPORT_REQUEST
APPROVE = PlatformPermission.EXPORT_APPROVE


def may_see(ctx: TenantContext) -> bool:
    return ctx.has(REQUEST) or ctx.has(APPROVE)


def require_see(ctx: TenantContext) -> None:
    if not may_see(ctx):
        raise PermissionDenied(f"この操作には権限 {REQUEST} または {APPROVE} が必要です。")


def get_export_request(ctx: TenantContext, request_id: int) -> ExportRequest:
    """The request; Http404 when it does not exist or belongs to another municipality (the same answer)."""
    require_see(ctx)
    with bound(ctx):
        found = ExportRequest.objects.filter(municipality_id=ctx.tenant_code, pk=request_id).first()
    if found is None:
        raise Http404("全件出力の申請が見つかりません。")
    return found
