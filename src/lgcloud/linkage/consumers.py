"""Internal consumers: apps on the platform (tax, benefits, transfers) reacting to the event feed.

Register a handler once, at import time of a module your app's ``ready()`` imports::

    from lgcloud.linkage.consumers import EventView, consumer

    @consumer("tax.registry_changes", event_types=["registry.person.*"])
    def on_registry_change(ctx: TenantContext, event: EventView) -> None:
        ...  # your actions/queries with ctx (a system context of the event's municipality)

``lgcloud run_consumers`` (``--once`` for one pass) then gives each consumer every
event of every municipality, in feed order, each exactly once *with respect to the
database*: the handler's writes and the advance of the consumer's cursor commit in
one transaction. A handler that raises is rolled back, the failure is recorded on
the cursor (without the message's personal data: the exception class only) and that
consumer stops for that municipality until the next pass, so it never skips an
event. Handlers must not call outside systems (those belong to webhooks).
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from django.db import transaction

from lgcloud.contract.discovery import installed, resolve
from lgcloud.core.tenancy import TenantContext, bound
from lgcloud.municipalities.queries import is_enabled

from .events import matches
from .models import ConsumerCursor, Event

logger = logging.getLogger(__name__)

Handler = Callable[[TenantContext, "EventView"], None]


@dataclass(frozen=True)
class EventView:
    """An event as a consumer sees it (the same fields as the published schema)."""

    id: str
    sequence: int
    municipality: str
    type: str
    schema_version: int
    occurred_at: datetime
    effective_date: date | None
    subject_type: str
    subject: str
    changed_items: tuple[str, ...]
    data: dict[str, Any]

    @classmethod
    def of(cls, row: Event) -> EventView:
        return cls(
            str(row.event_id),
            row.sequence,
            row.municipality_id,
            row.type,
            row.schema_version,
            row.occurred_at,
            row.effective_date,
            row.subject_type,
            row.subject,
            tuple(row.changed_items),
            dict(row.data),
        )


@dataclass(frozen=True)
class Consumer:
    name: str
    event_types: tuple[str, ...]
    handler: Handler
    app_id: str = ""  # the app that declared it: it runs only for municipalities that chose that app


_CONSUMERS: dict[str, Consumer] = {}


def consumer(name: str, *, event_types: list[str]) -> Callable[[Handler], Handler]:
    """Register ``handler`` as consumer ``name`` (stable: the cursor is kept under it) for ``event_types``."""

    def register(handler: Handler) -> Handler:
        existing = _CONSUMERS.get(name)
        if existing is not None and existing.handler is not handler:
            raise ValueError(f"consumer {name!r} is already registered")
        _CONSUMERS[name] = Consumer(name, tuple(event_types), handler)
        return handler

    return register


def registered() -> dict[str, Consumer]:
    """The consumers declared in the installed apps' manifests, and any registered in code (tests)."""
    found = dict(_CONSUMERS)
    for m in installed().values():
        for c in m.consumers:
            if c.name in found:
                raise ValueError(f"consumer {c.name!r} is declared twice")
            found[c.name] = Consumer(c.name, c.event_types, resolve(c.handler), m.id)
    return found


def unregister(name: str) -> None:
    """For tests that register a consumer of their own."""
    _CONSUMERS.pop(name, None)


@dataclass
class ConsumerRun:
    handled: dict[str, int] = field(default_factory=dict)
    failed: dict[str, str] = field(default_factory=dict)


def _cursor(ctx: TenantContext, name: str) -> ConsumerCursor:
    ConsumerCursor.objects.bulk_create(
        [ConsumerCursor(municipality_id=ctx.tenant_code, consumer=name)], ignore_conflicts=True
    )
    return ConsumerCursor.objects.select_for_update().get(municipality_id=ctx.tenant_code, consumer=name)


def run_consumer(ctx: TenantContext, item: Consumer, *, batch: int = 500) -> tuple[int, str]:
    """Feed ``item`` the events of ``ctx``'s municipality after its cursor; (events handled, error or "")."""
    handled = 0
    while True:
        with bound(ctx):
            cursor = _cursor(ctx, item.name)
            rows = list(
                Event.objects.filter(municipality_id=ctx.tenant_code, sequence__gt=cursor.last_sequence).order_by(
                    "sequence"
                )[:batch]
            )
        if not rows:
            return handled, ""
        for row in rows:
            try:
                with bound(ctx), transaction.atomic():
                    cursor = _cursor(ctx, item.name)
                    if cursor.last_sequence >= row.sequence:
                        continue  # another worker got here first
                    if matches(list(item.event_types), row.type):
                        item.handler(ctx, EventView.of(row))
                        handled += 1
                    cursor.last_sequence = row.sequence
                    cursor.failures = 0
                    cursor.last_error = ""
                    cursor.save(update_fields=["last_sequence", "failures", "last_error", "updated_at"])
            except Exception as exc:  # noqa: BLE001 - any handler failure stops this consumer, recorded below
                error = f"{row.type} #{row.sequence}: {type(exc).__name__}"
                logger.warning("consumer %s failed at %s #%s: %s", item.name, ctx.lg_code, row.sequence, error)
                with bound(ctx):
                    cursor = _cursor(ctx, item.name)
                    cursor.failures += 1
                    cursor.last_error = error[:200]
                    cursor.save(update_fields=["failures", "last_error", "updated_at"])
                return handled, error
        if len(rows) < batch:
            return handled, ""


def run_all(lg_codes: list[str], *, only: list[str] | None = None) -> ConsumerRun:
    """One pass of every registered consumer (or ``only`` these) over every municipality in ``lg_codes``."""
    run = ConsumerRun()
    for name, item in sorted(registered().items()):
        if only and name not in only:
            continue
        for lg_code in lg_codes:
            if item.app_id and not is_enabled(lg_code, item.app_id):
                continue  # the municipality does not use the app that declared this consumer
            ctx = TenantContext.system(lg_code, purpose=f"linkage.consumer:{name}", actor_name=f"consumer {name}")
            count, error = run_consumer(ctx, item)
            run.handled[name] = run.handled.get(name, 0) + count
            if error:
                run.failed[f"{name}@{lg_code}"] = error
    return run
