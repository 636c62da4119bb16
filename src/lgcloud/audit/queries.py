"""Reads of the audit log, for auditors of the same municipality."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from django.db.models import F

from lgcloud.core.permissions import PlatformPermission
from lgcloud.core.tenancy import TenantContext, bound

from .actions import record
from .models import AuditRecord

JST = ZoneInfo("Asia/Tokyo")
PAGE_SIZE = 50


@dataclass(frozen=True)
class AuditFilter:
    date_from: date | None = None
    date_to: date | None = None
    action: str = ""
    actor: str = ""
    subject_id: str = ""


@dataclass(frozen=True)
class AuditPage:
    records: Sequence[AuditRecord]
    page: int
    has_next: bool
    total: int


def search_audit_log(ctx: TenantContext, flt: AuditFilter, page: int = 1) -> AuditPage:
    """One page of ``ctx``'s chain, newest first. The search itself is audited.

    Each record carries ``seq``, its place in the chain, once the sealer has given it one
    (None before: 封印待ち).
    """
    ctx.require(PlatformPermission.AUDIT_READ)
    page = max(page, 1)
    with bound(ctx):
        qs = AuditRecord.objects.filter(municipality_id=ctx.lg_code)
        if flt.date_from:
            qs = qs.filter(occurred_at__gte=datetime.combine(flt.date_from, time.min, JST))
        if flt.date_to:
            qs = qs.filter(occurred_at__lt=datetime.combine(flt.date_to + timedelta(days=1), time.min, JST))
        if flt.action:
            qs = qs.filter(action__startswith=flt.action)
        if flt.actor:
            qs = qs.filter(actor_name__contains=flt.actor)
        if flt.subject_id:
            qs = qs.filter(subject_id=flt.subject_id)
        total = qs.count()
        offset = (page - 1) * PAGE_SIZE
        rows = list(qs.annotate(seq=F("seals__seq")).order_by("-id")[offset : offset + PAGE_SIZE + 1])
        record(
            ctx,
            "audit.log.searched",
            subject_type="audit_log",
            fields=[name for name, value in vars(flt).items() if value],
        )
    return AuditPage(rows[:PAGE_SIZE], page, len(rows) > PAGE_SIZE, total)
