"""Reads of the portability app (counts for progress bars and pages)."""

from __future__ import annotations

from lgcloud.core.tenancy import TenantContext
from lgcloud.registry import dump


def row_counts(ctx: TenantContext) -> dict[str, int]:
    """Rows each entity of a bundle will have (the address file has one per person); call inside bound(ctx)."""
    counts = dump.counts(ctx)
    counts["address"] = counts["person"]
    return counts
