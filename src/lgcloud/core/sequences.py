"""Per-municipality sequence numbers, allocated inside the caller's transaction."""

from __future__ import annotations

from lgcloud.core.models import TenantSequence
from lgcloud.core.tenancy import TenantContext, bound


def next_value(ctx: TenantContext, name: str, count: int = 1) -> int:
    """Reserve ``count`` numbers and return the first; rolled back with the caller's transaction."""
    with bound(ctx):
        TenantSequence.objects.bulk_create(
            [TenantSequence(municipality_id=ctx.tenant_code, name=name)], ignore_conflicts=True
        )
        row = TenantSequence.objects.select_for_update().get(municipality_id=ctx.tenant_code, name=name)
        first = row.last_value + 1
        row.last_value += count
        row.save(update_fields=["last_value"])
    return first
