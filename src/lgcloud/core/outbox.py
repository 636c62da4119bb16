"""The transactional outbox: how any app announces a committed change (連携).

Apps below ``linkage`` (registry, accounts, …) must not import it, yet every
change they commit has to write its event in the same transaction. So the
interface lives here, in core, and the linkage app registers the writer when
Django starts (``linkage/apps.py``). :func:`emit` refuses to run without a
writer or outside a transaction: an event is never silently lost, and a
rolled-back change never leaves an event behind.

Events carry the names of the changed items, never their values and never a
個人番号: values are read through the purpose-bound API, where each read is
audited with its purpose (docs/linkage.md).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date
from typing import Any, Protocol

from django.db import connection

from lgcloud.core.tenancy import TenantContext

# Item names that must never appear in an event, whatever the caller passes.
FORBIDDEN_ITEMS: frozenset[str] = frozenset({"individual_number", "individual_number_ciphertext", "my_number"})


class OutboxError(RuntimeError):
    """The outbox cannot take the event (no writer registered, no transaction open, forbidden content)."""


@dataclass(frozen=True)
class OutboxEvent:
    """What an app hands to the outbox; the writer adds id, sequence and time."""

    type: str
    subject_type: str
    subject: str
    effective_date: date | None
    changed_items: tuple[str, ...]
    data: Mapping[str, Any]
    schema_version: int


class Writer(Protocol):
    def __call__(self, ctx: TenantContext, event: OutboxEvent) -> str: ...


_writer: Writer | None = None


def register_writer(writer: Writer) -> None:
    """Install the function that stores events (called once, by the linkage app's ready())."""
    global _writer
    _writer = writer


def writer_registered() -> bool:
    return _writer is not None


def emit(
    ctx: TenantContext,
    *,
    type: str,  # the name in the published schema
    subject: str,
    effective_date: date | None,
    changed_items: Iterable[str] = (),
    subject_type: str = "person",
    data: Mapping[str, Any] | None = None,
    schema_version: int = 1,
) -> str:
    """Write one event in the caller's open transaction and return its id.

    ``type`` is ``<app>.<resource>.<what happened>`` (e.g. ``registry.person.moved_in``).
    ``data`` holds identifiers and codes needed to route the event (異動番号, 世帯番号,
    転出先の団体コード), not personal data.
    """
    if _writer is None:
        raise OutboxError("no outbox writer is registered: is lgcloud.linkage in INSTALLED_APPS?")
    if not connection.in_atomic_block:
        raise OutboxError("emit() must run inside the transaction of the change it announces")
    items = tuple(sorted(set(changed_items)))
    payload = dict(data or {})
    leaked = (set(items) | set(payload)) & FORBIDDEN_ITEMS
    if leaked:
        raise OutboxError("an event must not carry a 個人番号")
    event = OutboxEvent(type, subject_type, subject, effective_date, items, payload, schema_version)
    return _writer(ctx, event)
