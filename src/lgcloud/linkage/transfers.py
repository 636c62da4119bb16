"""Once-only move between two municipalities on the platform (転入届の特例, 住基法 第24条の2).

It runs on events and standard-layout-shaped payloads only, so A and B could run
different apps:

1. A records a 転出 with ``destination_lg_code`` = B: A's feed carries
   ``registry.person.moving_out`` per person (with the 団体コード of B).
2. This consumer, on A's feed, reads each person's 転出証明書 items from A under the
   purpose ``registry.transfer_certificate`` (audited in A, as read by B) and adds
   them to a pending :class:`Transfer` in B (audited in B); B's feed gets
   ``linkage.transfer.received``. One 転出 異動 = one transfer: a household that
   moves together arrives together.
3. B's clerk confirms it and completes the new address (``actions.confirm_transfer``):
   a 転入 in B, and ``linkage.transfer.confirmed`` in B's feed.
4. This consumer, on B's feed, sends the 転出確定通知 back: A's records become 除票
   (``registry.actions.confirm_move_out``), audited in A as done on B's notice.
"""

from __future__ import annotations

from typing import Any

from django.utils import timezone

from lgcloud.audit.actions import record as audit
from lgcloud.core.outbox import emit
from lgcloud.core.tenancy import TenantContext, bound
from lgcloud.municipalities.queries import get_municipality
from lgcloud.registry import actions as registry_actions
from lgcloud.registry import queries as registry_queries
from lgcloud.registry.codes import ResidentStatus

from .consumers import EventView, consumer
from .models import Transfer
from .queries import read_person_for_purpose

PURPOSE = "registry.transfer_certificate"
MOVING_OUT = "registry.person.moving_out"
RECEIVED = "linkage.transfer.received"
CONFIRMED = "linkage.transfer.confirmed"
LAYOUT = "lgcloud.standard-layout/registry.person"
LAYOUT_VERSION = 1


def _name(lg_code: str) -> str:
    row = get_municipality(lg_code)
    return f"{row.name}（{lg_code}）" if row else lg_code


def _on_platform(lg_code: str) -> bool:
    row = get_municipality(lg_code)
    return bool(row and row.on_platform)


@consumer("linkage.transfers", event_types=[MOVING_OUT, CONFIRMED])
def on_event(ctx: TenantContext, event: EventView) -> None:
    if event.type == MOVING_OUT:
        _send_certificate(ctx, event)
    else:
        _send_confirmation(ctx, event)


def _send_certificate(ctx: TenantContext, event: EventView) -> None:
    destination = str(event.data.get("destination_lg_code") or "")
    if not destination or destination == ctx.lg_code or not _on_platform(destination):
        return  # a move elsewhere: the paper 転出証明書 (or 住基ネット) as today
    source = ctx.tenant_code
    as_destination = TenantContext.system(source, purpose=PURPOSE, actor_name=f"転出先 {_name(destination)}")
    read = read_person_for_purpose(
        as_destination,
        event.subject,
        PURPOSE,
        today=timezone.localdate(),
        action="linkage.transfer.certificate_sent",
    )
    person: dict[str, Any] = {"source_atena_number": event.subject, **read.items}
    dest_ctx = TenantContext.system(destination, purpose=PURPOSE, actor_name=f"転出元 {_name(source)}")
    with bound(dest_ctx):
        transfer, created = Transfer.objects.get_or_create(
            municipality_id=destination,
            source_lg_code=source,
            source_change_number=int(event.data["change_number"]),
            defaults={
                "planned_date": event.effective_date or timezone.localdate(),
                "created_at": timezone.now(),
                "payload": {
                    "layout": LAYOUT,
                    "layout_version": LAYOUT_VERSION,
                    "legal_basis": read.purpose.legal_basis,
                    "source": {"lg_code": source, "name": _name(source)},
                    "persons": [],
                },
            },
        )
        if event.subject in transfer.source_atena_numbers:
            return
        transfer.source_atena_numbers = [*transfer.source_atena_numbers, event.subject]
        transfer.payload = {**transfer.payload, "persons": [*transfer.payload["persons"], person]}
        transfer.save(update_fields=["source_atena_numbers", "payload"])
        audit(
            dest_ctx,
            "linkage.transfer.received",
            subject_type="transfer",
            subject_id=str(transfer.transfer_id),
            fields=sorted(read.items),
        )
        if created:
            emit(
                dest_ctx,
                type=RECEIVED,
                subject_type="transfer",
                subject=str(transfer.transfer_id),
                effective_date=transfer.planned_date,
                data={"source_lg_code": source, "source_change_number": transfer.source_change_number},
            )


def _send_confirmation(ctx: TenantContext, event: EventView) -> None:
    source = str(event.data["source_lg_code"])
    atenas = [str(a) for a in event.data["source_atena_numbers"]]
    notice = TenantContext.system(
        source, purpose="registry.transfer_notice", actor_name=f"転入先 {_name(ctx.tenant_code)}（転出確定通知）"
    )
    with bound(notice):
        records = {
            a: registry_queries.get_record_items(notice, a, ["status"], action="linkage.transfer.notice_checked")
            for a in atenas
        }
        still_moving = [a for a, r in records.items() if r.get("status") == ResidentStatus.MOVING_OUT]
        for atena in atenas:
            audit(
                notice, "linkage.transfer.notice_received", subject_type="person", subject_id=atena, fields=["status"]
            )
        if still_moving:
            registry_actions.confirm_move_out(
                notice,
                atena_numbers=still_moving,
                effective_date=event.effective_date or timezone.localdate(),
                notified_on=timezone.localdate(),
                reason=f"転出確定通知（転入先 {_name(ctx.tenant_code)}、異動番号 {event.data.get('change_number')}）",
            )
