"""Reads of the linkage app: the event feed, purpose-bound person reads, delivery log, transfers, access history."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, replace
from datetime import date, datetime
from typing import Any

from django.db.models import F
from django.http import Http404

from lgcloud.audit import proofs
from lgcloud.audit.actions import record as audit
from lgcloud.audit.models import AuditRecord
from lgcloud.core.permissions import ROLE_LABELS, PlatformPermission, Role
from lgcloud.core.problems import Problem
from lgcloud.core.tenancy import TenantContext, bound
from lgcloud.registry import queries as registry_queries
from lgcloud.registry.permissions import RegistryPermission

from .events import event_json
from .models import ConsumerCursor, Delivery, DeliveryAttempt, DeliveryStatus, Event, Subscription, Transfer
from .parameters import Purpose, data_map, purpose

EVENTS_READ = PlatformPermission.EVENTS_READ
WEBHOOK_MANAGE = PlatformPermission.WEBHOOK_MANAGE
TRANSFER_CONFIRM = RegistryPermission.TRANSFER_CONFIRM
MAX_FEED_PAGE = 1000
PERSON_READ_ACTION = "linkage.person.read"
# accounts.residents.resident_context names a signed-in resident so (利用者番号 N): never shown.
RESIDENT_ACTOR_PREFIX = "住民（利用者番号"


# --- the pull feed --------------------------------------------------------------------------------


@dataclass(frozen=True)
class FeedPage:
    events: list[dict[str, Any]]
    next_cursor: int  # pass as ``after`` to continue; equal to ``after`` when nothing new
    has_more: bool


def read_feed(ctx: TenantContext, *, after: int, limit: int, types: list[str] | None = None) -> FeedPage:
    """Events with a sequence above ``after``, in order, at most ``limit``: replayable from any cursor.

    Filtering by type skips events but the cursor still moves past them, so a
    filtered reader never re-reads what it chose not to see.
    """
    ctx.require(EVENTS_READ)
    limit = max(1, min(limit, MAX_FEED_PAGE))
    with bound(ctx):
        rows = list(
            Event.objects.filter(municipality_id=ctx.tenant_code, sequence__gt=after).order_by("sequence")[: limit + 1]
        )
        page, more = rows[:limit], len(rows) > limit
        chosen = [r for r in page if not types or any(r.type == t or r.type.startswith(t + ".") for t in types)]
        next_cursor = page[-1].sequence if page else after
        audit(ctx, "linkage.events.read", subject_type="event_range", subject_id=f"{after + 1}-{next_cursor}")
        return FeedPage([event_json(r) for r in chosen], next_cursor, more)


def events_after(ctx: TenantContext, after: int, limit: int) -> list[Event]:
    """Raw event rows for the in-process workers (consumers, benchmarks); not audited: no personal data leaves."""
    with bound(ctx):
        return list(
            Event.objects.filter(municipality_id=ctx.tenant_code, sequence__gt=after).order_by("sequence")[:limit]
        )


def last_sequence(ctx: TenantContext) -> int:
    with bound(ctx):
        row = Event.objects.filter(municipality_id=ctx.tenant_code).order_by("-sequence").first()
        return row.sequence if row else 0


# --- purpose-bound reads ----------------------------------------------------------------------------


@dataclass(frozen=True)
class PurposeRead:
    atena_number: str
    purpose: Purpose
    items: dict[str, Any]


def check_purpose(ctx: TenantContext, code: str, *, today: date) -> tuple[Purpose, frozenset[str]]:
    """The purpose and its items in force today, or a 403 problem that says why not."""
    found = purpose(code)
    if found is None:
        known = ", ".join(sorted(data_map().purposes))
        raise Problem(
            403,
            "unknown_purpose",
            "利用目的が定められていません",
            f"利用目的「{code}」はデータマップにありません。定められている利用目的: {known}",
        )
    if code not in ctx.scopes and not ctx.is_system:
        granted = sorted(ctx.scopes)
        raise Problem(
            403,
            "purpose_not_granted",
            "この利用目的での参照は認められていません",
            f"このクライアントには利用目的「{found.label}」（{code}）が許可されていません"
            f"（根拠: {found.legal_basis}）。許可されている利用目的: {', '.join(granted) or 'なし'}",
        )
    items = found.items_on(today)
    if items is None:
        raise Problem(
            403,
            "purpose_not_in_force",
            "この利用目的は施行前です",
            f"利用目的「{found.label}」は {today.isoformat()} の時点で提供項目が定められていません。",
        )
    return found, items


def read_person_for_purpose(
    ctx: TenantContext, atena_number: str, code: str, *, today: date, action: str = PERSON_READ_ACTION
) -> PurposeRead:
    """Only the items the data map allows for ``code``; the read is audited with the client and the purpose."""
    found, items = check_purpose(ctx, code, today=today)
    if not items:
        raise Problem(
            403,
            "no_items_for_purpose",
            "この利用目的で参照できる項目はありません",
            f"利用目的「{found.label}」では住民票の項目を提供しません。",
        )
    reader = replace(ctx, purpose=code, permissions=ctx.permissions | {registry_queries.READ})
    values = registry_queries.get_record_items(reader, atena_number, items, action=action)
    return PurposeRead(atena_number, found, values)


# --- who read my data (item 7) ------------------------------------------------------------------------


@dataclass(frozen=True)
class AccessEntry:
    id: int  # the audit record's id: names the entry for its inclusion proof
    seq: int | None  # its place in the municipality's audit chain; None until sealed (封印待ち)
    occurred_at: datetime
    kind: str  # staff | system | municipality | platform
    who: str  # role labels for staff (never a name), the client or municipality otherwise
    action: str
    action_label: str
    purpose: str
    purpose_label: str
    items: list[str]


_ACTION_LABELS = {
    "registry.person.viewed": "住民票の閲覧",
    "registry.person.viewed_as_of": "過去の時点の住民票の閲覧",
    "registry.person.history_viewed": "異動履歴の閲覧",
    "registry.person.individual_number_revealed": "個人番号の表示",
    "registry.person.individual_number_set": "個人番号の記録",
    "registry.person.items_read": "住民票の項目の参照",
    PERSON_READ_ACTION: "外部システムによる項目の参照",
    "linkage.transfer.certificate_sent": "転出証明書情報の送付（転出先団体へ）",
    "linkage.transfer.received": "転出証明書情報の受領（転出元団体から）",
    "linkage.access_log.read": "利用状況の確認",
    "linkage.access_log.proof_issued": "利用状況の記録の証明の発行",
    "registry.protection.set": "支援措置の設定",
    "registry.protection.extended": "支援措置の延長",
    "registry.protection.ended": "支援措置の終了",
    "registry.kiosk_pin.set": "コンビニ交付の暗証番号の設定",
}
_PURPOSE_LABELS = {"staff.work": "職員の事務", "api": "API による職員の事務"}


def _purpose_label(code: str) -> str:
    if code in _PURPOSE_LABELS:
        return _PURPOSE_LABELS[code]
    found = purpose(code.split(":", 1)[0])
    return found.label if found else code


def _classify(row: AuditRecord) -> tuple[str, str]:
    if row.action.startswith("linkage.transfer."):
        return "municipality", row.actor_name
    if row.action == PERSON_READ_ACTION or row.actor_name.startswith("API クライアント"):
        return "system", row.actor_name.removeprefix("API クライアント ")
    if not row.actor_role and row.actor_id is None and row.actor_name.startswith(RESIDENT_ACTOR_PREFIX):
        return "self", "ご本人（オンライン）"
    if row.actor_role:
        labels = []
        for name in row.actor_role.split(","):
            try:
                labels.append(ROLE_LABELS[Role(name)])
            except ValueError:
                labels.append(name)
        return "staff", "・".join(labels)
    return "platform", "lgcloud（システムによる処理）"


def access_history(ctx: TenantContext, atena_number: str, *, limit: int = 200) -> list[AccessEntry]:
    """Who read (or recorded) this person's data, when and why, newest first, from the audit log.

    Staff appear by role, never by name; systems and municipalities by name. The
    look-up is itself audited (and so appears in the next answer). An entry the sealer
    has linked into the audit chain (``seq`` set) has an inclusion proof
    (:func:`access_proof`); a fresh one waits about a second (封印待ち).
    """
    _require_access_log(ctx)
    with bound(ctx):
        if not registry_queries.person_exists(ctx, atena_number):
            raise Http404("住民が見つかりません。")
        rows = list(_entries_of(ctx, atena_number).annotate(seq=F("seals__seq")).order_by("-id")[:limit])
        audit(ctx, "linkage.access_log.read", subject_type="person", subject_id=atena_number, fields=["access_log"])
    entries = []
    for row in rows:
        kind, who = _classify(row)
        entries.append(
            AccessEntry(
                id=row.pk,
                seq=row.seq,  # annotated by the query above
                occurred_at=row.occurred_at,
                kind=kind,
                who=who,
                action=row.action,
                action_label=_ACTION_LABELS.get(row.action, row.action),
                purpose=row.purpose,
                purpose_label=_purpose_label(row.purpose),
                items=list(row.fields),
            )
        )
    return entries


def _require_access_log(ctx: TenantContext) -> None:
    if not ("self.access_log" in ctx.scopes or ctx.has(registry_queries.READ)):
        raise Problem(
            403,
            "purpose_not_granted",
            "利用状況の確認は認められていません",
            "利用目的「本人による自己の情報の利用状況の確認」（self.access_log）の許可が必要です。",
        )


def _entries_of(ctx: TenantContext, atena_number: str) -> Any:
    return AuditRecord.objects.filter(municipality_id=ctx.tenant_code, subject_type="person", subject_id=atena_number)


def access_proof(ctx: TenantContext, atena_number: str, entry_id: int) -> dict[str, Any]:
    """The inclusion proof (JSON bundle, docs/audit.md) of one entry of this person's access history.

    Verifiable offline with ``python -m lgcloud.audit.proofcheck``. An entry of another person
    answers 404, like one that does not exist; one not sealed yet answers 409 ``not_sealed``.
    Issuing it is audited.
    """
    _require_access_log(ctx)
    with bound(ctx):
        if (
            not registry_queries.person_exists(ctx, atena_number)
            or not _entries_of(ctx, atena_number).filter(pk=entry_id).exists()
        ):
            raise Http404("この利用状況の記録はありません。")
        try:
            bundle = proofs.inclusion_proof(ctx, entry_id)
        except proofs.ProofUnavailable as exc:
            raise Problem(409, "not_sealed", "封印待ちです", str(exc)) from None
        audit(
            ctx,
            "linkage.access_log.proof_issued",
            subject_type="person",
            subject_id=atena_number,
            fields=["inclusion_proof"],
        )
    return bundle


# --- webhooks: subscriptions and the delivery log ---------------------------------------------------


@dataclass(frozen=True)
class DeliveryRow:
    pk: int
    subscription: str
    event_id: str
    event_type: str
    sequence: int
    status: str
    status_label: str
    attempts: int
    next_attempt_at: datetime | None
    last_status_code: int | None
    last_error: str
    delivered_at: datetime | None
    created_at: datetime


def list_subscriptions(ctx: TenantContext) -> list[Subscription]:
    ctx.require(WEBHOOK_MANAGE)
    with bound(ctx):
        return list(Subscription.objects.filter(municipality_id=ctx.tenant_code).order_by("name"))


def list_deliveries(ctx: TenantContext, *, status: str = "", limit: int = 100) -> list[DeliveryRow]:
    """The delivery log, newest first (event types and numbers only: no personal data)."""
    ctx.require(WEBHOOK_MANAGE)
    with bound(ctx):
        qs = Delivery.objects.filter(municipality_id=ctx.tenant_code).select_related("subscription", "event")
        if status:
            qs = qs.filter(status=status)
        return [
            DeliveryRow(
                pk=d.pk,
                subscription=d.subscription.name,
                event_id=str(d.event.event_id),
                event_type=d.event.type,
                sequence=d.event.sequence,
                status=d.status,
                status_label=DeliveryStatus(d.status).label,
                attempts=d.attempts,
                next_attempt_at=d.next_attempt_at if d.status == DeliveryStatus.PENDING else None,
                last_status_code=d.last_status_code,
                last_error=d.last_error,
                delivered_at=d.delivered_at,
                created_at=d.created_at,
            )
            for d in qs.order_by("-created_at", "-id")[:limit]
        ]


def delivery_attempts(ctx: TenantContext, delivery_pk: int) -> list[DeliveryAttempt]:
    ctx.require(WEBHOOK_MANAGE)
    with bound(ctx):
        return list(
            DeliveryAttempt.objects.filter(municipality_id=ctx.tenant_code, delivery_id=delivery_pk).order_by("number")
        )


def consumer_cursors(ctx: TenantContext) -> dict[str, ConsumerCursor]:
    with bound(ctx):
        return {c.consumer: c for c in ConsumerCursor.objects.filter(municipality_id=ctx.tenant_code)}


# --- transfers (once-only move) ------------------------------------------------------------------------


def list_transfers(ctx: TenantContext, *, status: str = "pending") -> list[Transfer]:
    ctx.require(TRANSFER_CONFIRM)
    with bound(ctx):
        qs = Transfer.objects.filter(municipality_id=ctx.tenant_code)
        if status:
            qs = qs.filter(status=status)
        rows = list(qs.order_by("-created_at"))
        audit(ctx, "linkage.transfer.listed", subject_type="transfer_list", subject_id=len(rows))
        return rows


def get_transfer(ctx: TenantContext, transfer_id: str) -> Transfer:
    ctx.require(TRANSFER_CONFIRM)
    try:
        key = uuid.UUID(transfer_id)
    except ValueError:
        raise Http404("転入予定が見つかりません。") from None
    with bound(ctx):
        row = Transfer.objects.filter(municipality_id=ctx.tenant_code, transfer_id=key).first()
        if row is None:
            raise Http404("転入予定が見つかりません。")
        audit(ctx, "linkage.transfer.viewed", subject_type="transfer", subject_id=transfer_id, fields=["payload"])
        return row
