"""Pushing events to subscribers: signed (Standard Webhooks), retried with backoff, dead-lettered.

A delivery row is created with the event, in the change's transaction
(events.write_event). The worker (``lgcloud deliver_webhooks``) then, per municipality:

1. claims due deliveries in a short transaction (``FOR UPDATE SKIP LOCKED`` on
   PostgreSQL, so several workers never take the same one) and leases them by
   moving ``next_attempt_at`` forward; a worker that dies mid-request leaves the
   delivery to be retried when the lease ends;
2. POSTs each outside any transaction (no row lock is held while waiting on a receiver);
3. records the attempt: delivered, or retried after ``base_delay · 2^(attempt-1)``
   (capped), or dead after ``max_attempts`` (staff can redeliver from the log).

Receivers get at-least-once delivery and deduplicate on ``webhook-id`` (the event id).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import datetime, timedelta

import httpx
from django.db import connection
from django.utils import timezone

from lgcloud.core import crypto
from lgcloud.core.tenancy import TenantContext, bound

from .actions import WEBHOOK_SECRET
from .events import event_json
from .models import Delivery, DeliveryAttempt, DeliveryStatus

USER_AGENT = "lgcloud-webhooks/1"
MAX_DELAY = timedelta(hours=6)


@dataclass(frozen=True)
class WorkerSettings:
    max_attempts: int = 8
    base_delay: timedelta = timedelta(seconds=10)
    timeout_seconds: float = 10.0
    lease: timedelta = timedelta(seconds=60)
    batch: int = 100
    parallel: int = 8  # concurrent POSTs within a batch


@dataclass
class DeliveryStats:
    delivered: int = 0
    failed: int = 0
    dead: int = 0
    codes: list[int | None] = field(default_factory=list)

    @property
    def attempted(self) -> int:
        return self.delivered + self.failed + self.dead


def sign(secret: str, msg_id: str, timestamp: int, body: bytes) -> str:
    """``v1,`` + base64(HMAC-SHA256(key, "{id}.{timestamp}.{body}")), key = base64-decoded secret after ``whsec_``."""
    key = base64.b64decode(secret.removeprefix("whsec_"))
    mac = hmac.new(key, f"{msg_id}.{timestamp}.".encode() + body, hashlib.sha256).digest()
    return "v1," + base64.b64encode(mac).decode("ascii")


def backoff(attempt: int, base: timedelta) -> timedelta:
    """Delay after the ``attempt``-th failure: base, 2·base, 4·base, … capped at six hours."""
    delay: timedelta = base * (2 ** max(attempt - 1, 0))
    return min(delay, MAX_DELAY)


@dataclass(frozen=True)
class _Claimed:
    pk: int
    url: str
    secret: str
    event_id: str
    body: bytes
    attempts: int


def _anything_due(ctx: TenantContext, now: datetime) -> bool:
    due = Delivery.objects.filter(
        municipality_id=ctx.tenant_code, status=DeliveryStatus.PENDING, next_attempt_at__lte=now
    )
    if connection.vendor == "sqlite" and not connection.in_atomic_block:
        # SQLite's transactions here are IMMEDIATE (they take the write lock at BEGIN), so an idle
        # worker polling inside one would stall every 異動; a plain read takes no lock. (SQLite has
        # no row-level security, so reading outside bound() changes nothing else.)
        return due.exists()
    with bound(ctx):
        return due.exists()


def _claim(ctx: TenantContext, now: datetime, cfg: WorkerSettings) -> list[_Claimed]:
    if not _anything_due(ctx, now):
        return []
    with bound(ctx):
        rows = list(
            Delivery.objects.select_for_update(skip_locked=True, of=("self",))
            .filter(municipality_id=ctx.tenant_code, status=DeliveryStatus.PENDING, next_attempt_at__lte=now)
            .select_related("subscription", "event")
            .order_by("next_attempt_at", "id")[: cfg.batch]
        )
        secrets: dict[int, str] = {}
        claimed = []
        for d in rows:
            if d.subscription_id not in secrets:
                secrets[d.subscription_id] = crypto.decrypt(
                    ctx, bytes(d.subscription.secret_ciphertext), WEBHOOK_SECRET
                )
            Delivery.objects.filter(pk=d.pk).update(next_attempt_at=now + cfg.lease, attempts=d.attempts + 1)
            body = json.dumps(event_json(d.event), ensure_ascii=False, separators=(",", ":")).encode("utf-8")
            claimed.append(
                _Claimed(
                    d.pk, d.subscription.url, secrets[d.subscription_id], str(d.event.event_id), body, d.attempts + 1
                )
            )
    return claimed


def _post(client: httpx.Client, item: _Claimed, cfg: WorkerSettings) -> tuple[int | None, str, int]:
    timestamp = int(time.time())
    headers = {
        "content-type": "application/json",
        "user-agent": USER_AGENT,
        "webhook-id": item.event_id,
        "webhook-timestamp": str(timestamp),
        "webhook-signature": sign(item.secret, item.event_id, timestamp, item.body),
    }
    started = time.perf_counter()
    try:
        response = client.post(item.url, content=item.body, headers=headers, timeout=cfg.timeout_seconds)
    except httpx.HTTPError as exc:
        # The class name only: a message may echo the URL's query or the receiver's words.
        return None, f"接続エラー: {type(exc).__name__}", int((time.perf_counter() - started) * 1000)
    elapsed = int((time.perf_counter() - started) * 1000)
    if 200 <= response.status_code < 300:
        return response.status_code, "", elapsed
    return response.status_code, f"HTTP {response.status_code}", elapsed


def _record(
    ctx: TenantContext,
    item: _Claimed,
    result: tuple[int | None, str, int],
    cfg: WorkerSettings,
    clock: datetime,
) -> str:
    """Log the attempt and decide: delivered, retry at ``clock`` + backoff, or dead."""
    code, error, elapsed = result
    now = timezone.now()
    with bound(ctx):
        number = DeliveryAttempt.objects.filter(municipality_id=ctx.tenant_code, delivery_id=item.pk).count() + 1
        DeliveryAttempt.objects.create(
            municipality_id=ctx.tenant_code,
            delivery_id=item.pk,
            number=number,
            attempted_at=now,
            status_code=code,
            succeeded=not error,
            error=error,
            duration_ms=elapsed,
        )
        changes: dict[str, object] = {"last_status_code": code, "last_error": error}
        if not error:
            outcome = DeliveryStatus.DELIVERED
            changes.update(status=outcome, delivered_at=now)
        elif item.attempts >= cfg.max_attempts:
            outcome = DeliveryStatus.DEAD
            changes.update(status=outcome)
        else:
            outcome = DeliveryStatus.PENDING
            changes.update(next_attempt_at=clock + backoff(item.attempts, cfg.base_delay))
        Delivery.objects.filter(pk=item.pk).update(**changes)
    return outcome


def deliver_due(
    ctx: TenantContext, client: httpx.Client, cfg: WorkerSettings | None = None, *, now: datetime | None = None
) -> DeliveryStats:
    """Attempt every delivery of ``ctx``'s municipality that is due at ``now`` (default: the clock)."""
    cfg = cfg or WorkerSettings()
    stats = DeliveryStats()
    clock = now or timezone.now()
    claimed = _claim(ctx, clock, cfg)
    if not claimed:
        return stats
    # Receivers are independent: post the batch in parallel (httpx.Client is thread-safe), then
    # record every outcome in one transaction.
    with ThreadPoolExecutor(max_workers=min(cfg.parallel, len(claimed))) as pool:
        results = list(pool.map(lambda item: _post(client, item, cfg), claimed))
    with bound(ctx):
        outcomes = [
            _record(ctx, item, result, cfg, clock if now is not None else timezone.now())
            for item, result in zip(claimed, results, strict=True)
        ]
    for result, outcome in zip(results, outcomes, strict=True):
        stats.codes.append(result[0])
        if outcome == DeliveryStatus.DELIVERED:
            stats.delivered += 1
        elif outcome == DeliveryStatus.DEAD:
            stats.dead += 1
        else:
            stats.failed += 1
    return stats
