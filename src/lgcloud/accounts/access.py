"""Access to single staff records: tenant first, then permission.

Another municipality's member of staff and a missing one give the same 404,
so nobody can probe which accounts exist elsewhere.
"""

from __future__ import annotations

from django.http import Http404

from lgcloud.audit.actions import record
from lgcloud.core.permissions import PlatformPermission
from lgcloud.core.tenancy import TenantContext, bound

from .models import Staff


def get_staff_for_management(ctx: TenantContext, staff_id: int) -> Staff:
    with bound(ctx):
        staff = (
            Staff.objects.filter(pk=staff_id, municipality_id=ctx.lg_code).prefetch_related("role_assignments").first()
        )
        if staff is None or not ctx.has(PlatformPermission.STAFF_READ):
            raise Http404("職員が見つかりません。")
        # Reads of personal data are audited like writes.
        record(
            ctx,
            "accounts.staff.viewed",
            subject_type="staff",
            subject_id=staff.pk,
            fields=["username", "display_name", "roles", "is_active"],
        )
        return staff
