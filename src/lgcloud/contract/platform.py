"""The platform's services that need the database: import this module from an app's actions,
queries, views and API modules (not from its manifest or models, which load before the database).
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date
from typing import Any

from django.http import HttpRequest

from lgcloud.core.jobs import (
    ChunkOutcome,
    JobBusy,
    JobHandle,
    chunked,
    fail_job,
    finish_job,
    open_job,
    run_chunks,
    set_total,
)
from lgcloud.core.tenancy import TenantContext


def audit(
    ctx: TenantContext,
    action: str,
    *,
    subject_type: str = "",
    subject_id: str | int = "",
    fields: Iterable[str] = (),
) -> None:
    """Append an audit record in the caller's transaction: who (``ctx``) did ``action`` to what.

    ``fields`` names the items read or written, never their values. ``action`` is
    ``<app>.<resource>.<what>`` (``seal.registration.viewed``).
    """
    from lgcloud.audit.actions import record

    record(ctx, action, subject_type=subject_type, subject_id=subject_id, fields=fields)


def municipality_name(lg_code: str) -> str:
    """The municipality's name (「千代田区」), or the code if it is not in the directory."""
    from lgcloud.municipalities.queries import get_municipality

    m = get_municipality(lg_code)
    return m.name if m is not None else lg_code


def municipality_kind(lg_code: str) -> str:
    """``special_ward``, ``city``, ``town`` or ``village`` (税目 names depend on it), or ""."""
    from lgcloud.municipalities.queries import get_municipality

    m = get_municipality(lg_code)
    return m.kind if m is not None else ""


def is_enabled(lg_code: str, app_id: str, on: date | None = None) -> bool:
    """Whether the municipality uses ``app_id`` for its 業務 (on ``on``)."""
    from lgcloud.municipalities.queries import is_enabled as enabled

    return enabled(lg_code, app_id, on)


def api_auth() -> list[Any]:
    """The authentication of staff API routes (personal token or session): ``Router(auth=api_auth())``."""
    from lgcloud.accounts.auth import staff_auth

    return staff_auth()


def api_context(request: HttpRequest, purpose: str = "api") -> TenantContext:
    """The context of the member of staff calling an API route."""
    from lgcloud.accounts.auth import api_context as context

    return context(request, purpose=purpose)


__all__ = [
    "ChunkOutcome",
    "JobBusy",
    "JobHandle",
    "api_auth",
    "api_context",
    "audit",
    "chunked",
    "fail_job",
    "finish_job",
    "is_enabled",
    "municipality_kind",
    "municipality_name",
    "open_job",
    "run_chunks",
    "set_total",
]
