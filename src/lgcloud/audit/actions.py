"""Appending to the audit log. Callers pass the context they act in."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import replace

from django.db import transaction
from django.utils import timezone

from lgcloud.core.tenancy import TenantContext, platform_scope

from .hashing import record_hash
from .models import PLATFORM_CHAIN, AuditChainHead, AuditRecord


def record(
    ctx: TenantContext,
    action: str,
    *,
    subject_type: str = "",
    subject_id: str | int = "",
    fields: Iterable[str] = (),
) -> AuditRecord:
    """Append one record to ``ctx``'s chain, in the caller's transaction.

    ``fields`` names the fields read or written, never their values: the log
    must not become a second copy of personal data (個人番号 above all).
    """
    chain = ctx.lg_code or PLATFORM_CHAIN
    with transaction.atomic():
        AuditChainHead.objects.bulk_create(
            [AuditChainHead(chain=chain, municipality_id=ctx.lg_code)], ignore_conflicts=True
        )
        # The row lock serialises appends to one chain; other chains go on in parallel.
        head = AuditChainHead.objects.select_for_update().get(chain=chain)
        entry = AuditRecord(
            municipality_id=ctx.lg_code,
            chain=chain,
            seq=head.last_seq + 1,
            occurred_at=timezone.now(),
            actor_id=ctx.actor_id,
            actor_name=ctx.actor_name,
            actor_role=ctx.role_names,
            purpose=ctx.purpose,
            action=action,
            subject_type=subject_type,
            subject_id=str(subject_id),
            fields=sorted(set(fields)),
            request_id=ctx.request_id,
            prev_hash=head.last_hash,
        )
        entry.hash = record_hash(entry)
        entry.save(force_insert=True)
        head.last_seq = entry.seq
        head.last_hash = entry.hash
        head.save(update_fields=["last_seq", "last_hash"])
    return entry


def record_platform(
    ctx: TenantContext, action: str, *, subject_type: str = "", subject_id: str | int = ""
) -> AuditRecord:
    """Record on the platform chain (e.g. a failed sign-in whose municipality is unknown)."""
    with platform_scope():
        return record(replace(ctx, lg_code=None), action, subject_type=subject_type, subject_id=subject_id)
