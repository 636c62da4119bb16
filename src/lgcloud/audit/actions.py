"""Appending to the audit log. Callers pass the context they act in."""

from __future__ import annotations

import secrets
from collections.abc import Iterable
from dataclasses import replace

from django.db.models import BigIntegerField, Func
from django.utils import timezone

from lgcloud.core import placement
from lgcloud.core.tenancy import TenantContext, platform_scope

from .models import PLATFORM_CHAIN, AuditRecord


class CurrentTransactionId(Func):
    """PostgreSQL's id of the writing transaction (its top-level xid, as a bigint).

    The sealer compares it with its snapshots to find records whose transaction was
    still running at its last pass, however low their id (``audit.sealer``).
    """

    template = "pg_current_xact_id()::text::bigint"
    output_field = BigIntegerField()


def record(
    ctx: TenantContext,
    action: str,
    *,
    subject_type: str = "",
    subject_id: str | int = "",
    fields: Iterable[str] = (),
) -> AuditRecord:
    """Append one record to ``ctx``'s chain, in the caller's transaction (open with ``bound(ctx)``).

    One INSERT and no lock: the record commits or rolls back with the work it records, and
    requests of the same municipality never wait for each other here. Its place in the chain
    (``seq``) and its Merkle leaf are given by the sealer within about a second of the commit.

    ``fields`` names the fields read or written, never their values: the log must not
    become a second copy of personal data (個人番号 above all).
    """
    postgres = placement.tenant_connection().vendor == "postgresql"
    entry = AuditRecord(
        municipality_id=ctx.lg_code,
        chain=ctx.lg_code or PLATFORM_CHAIN,
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
        nonce=secrets.token_hex(16),
        txid=CurrentTransactionId() if postgres else None,
    )
    entry.save(force_insert=True)
    if postgres:
        entry.txid = None  # the expression is spent; the value stays in the database
    return entry


def record_platform(
    ctx: TenantContext, action: str, *, subject_type: str = "", subject_id: str | int = ""
) -> AuditRecord:
    """Record on the platform chain (e.g. a failed sign-in whose municipality is unknown)."""
    with platform_scope():
        return record(replace(ctx, lg_code=None), action, subject_type=subject_type, subject_id=subject_id)
