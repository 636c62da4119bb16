"""The outbox writer and the event schema (version 1, docs/linkage.md).

``write_event`` is registered with :mod:`lgcloud.core.outbox` when Django starts.
It runs inside the transaction of the change it announces: the event row, its
place in the municipality's feed and a pending delivery for every matching
webhook subscription are committed, or rolled back, with the change itself.
"""

from __future__ import annotations

import uuid
from datetime import UTC, timedelta
from typing import Any

from django.utils import timezone

from lgcloud.core.outbox import OutboxEvent
from lgcloud.core.sequences import next_value
from lgcloud.core.tenancy import TenantContext, bound

from .models import Delivery, Event, Subscription

SEQUENCE = "linkage.event"
SCHEMA_VERSION = 1


def matches(patterns: list[str], event_type: str) -> bool:
    """``registry.person.moved_in`` matches itself, ``registry.person.*``, ``registry.*`` and ``*``."""
    for pattern in patterns:
        if pattern == "*" or pattern == event_type:
            return True
        if pattern.endswith(".*") and event_type.startswith(pattern[:-1]):
            return True
    return False


def write_event(ctx: TenantContext, event: OutboxEvent) -> str:
    now = timezone.now()
    with bound(ctx):
        row = Event.objects.create(
            municipality_id=ctx.tenant_code,
            event_id=uuid.uuid4(),
            sequence=next_value(ctx, SEQUENCE),
            type=event.type,
            schema_version=event.schema_version,
            occurred_at=now,
            effective_date=event.effective_date,
            subject_type=event.subject_type,
            subject=event.subject,
            changed_items=list(event.changed_items),
            data=dict(event.data),
            request_id=ctx.request_id,
        )
        subscriptions = [
            s
            for s in Subscription.objects.filter(municipality_id=ctx.tenant_code, active=True)
            if matches(list(s.event_types), event.type)
        ]
        if subscriptions:
            Delivery.objects.bulk_create(
                [
                    Delivery(
                        municipality_id=ctx.tenant_code,
                        subscription=s,
                        event=row,
                        next_attempt_at=now - timedelta(microseconds=1),
                        created_at=now,
                    )
                    for s in subscriptions
                ]
            )
    return str(row.event_id)


def event_json(row: Event) -> dict[str, Any]:
    """The published form of an event (pull feed, webhooks, consumers): schema version 1."""
    return {
        "id": str(row.event_id),
        "type": row.type,
        "schema_version": row.schema_version,
        "municipality": row.municipality_id,
        "sequence": row.sequence,
        "occurred_at": row.occurred_at.astimezone(UTC).isoformat().replace("+00:00", "Z"),
        "effective_date": row.effective_date.isoformat() if row.effective_date else None,
        "subject": {"type": row.subject_type, "id": row.subject},
        "changed_items": list(row.changed_items),
        "data": dict(row.data),
    }
