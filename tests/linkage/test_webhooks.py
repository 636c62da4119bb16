"""Webhooks against a real HTTP receiver on loopback: signatures, retries with backoff, dead letters, redelivery."""

from __future__ import annotations

import json
import socket
from datetime import timedelta

import httpx
import pytest
from django.test import Client
from django.utils import timezone

from lgcloud.core.permissions import Role
from lgcloud.core.tenancy import TenantContext
from lgcloud.linkage import actions, queries
from lgcloud.linkage.models import Delivery, DeliveryAttempt, Event
from lgcloud.linkage.webhooks import WorkerSettings, backoff, deliver_due
from tests.conftest import StaffFactory, signed_in
from tests.linkage.conftest import CHIYODA, move_in_family
from tests.linkage.receiver import receiver

pytestmark = pytest.mark.django_db

FAST = WorkerSettings(max_attempts=3, base_delay=timedelta(seconds=30), timeout_seconds=5)


def worker() -> TenantContext:
    return TenantContext.system(CHIYODA, purpose="linkage.webhooks", actor_name="deliver_webhooks")


def test_deliveries_are_signed_and_carry_the_event(admin: TenantContext, clerk: TenantContext) -> None:
    with receiver() as rx:
        sub = actions.create_subscription(admin, name="税務システム", url=rx.url, event_types=["registry.person.*"])
        family = move_in_family(clerk)
        with httpx.Client() as http:
            stats = deliver_due(worker(), http, FAST)
        assert stats.delivered == 2  # two persons; the household event is not subscribed
        assert len(rx.received) == 2
        events = {str(e.event_id): e for e in Event.objects.filter(type="registry.person.moved_in")}
        for item in rx.received:
            assert rx.verify(sub.secret, item)
            body = json.loads(item.body)
            assert item.headers["webhook-id"] == body["id"] and body["id"] in events
            assert body["type"] == "registry.person.moved_in"
            assert body["subject"]["id"] in family.atena_numbers
            assert item.headers["content-type"] == "application/json"
            assert abs(int(item.headers["webhook-timestamp"]) - timezone.now().timestamp()) < 300
        # A tampered body or another secret does not verify.
        forged = type(rx.received[0])(rx.received[0].headers, rx.received[0].body.replace(b"moved_in", b"died"))
        assert not rx.verify(sub.secret, forged)
        other = actions.create_subscription(admin, name="other", url=rx.url, event_types=["x.*"])
        assert not rx.verify(other.secret, rx.received[0])
    assert all(d.status == "delivered" for d in Delivery.objects.all())
    # Nothing is sent twice.
    with httpx.Client() as http:
        assert deliver_due(worker(), http, FAST).attempted == 0


def test_a_failing_receiver_is_retried_with_backoff_and_recovers(admin: TenantContext, clerk: TenantContext) -> None:
    with receiver(statuses=[503, 500]) as rx:
        actions.create_subscription(admin, name="福祉", url=rx.url, event_types=["registry.household.changed"])
        move_in_family(clerk)
        start = timezone.now()
        with httpx.Client() as http:
            first = deliver_due(worker(), http, FAST, now=start)
            assert (first.failed, first.codes) == (1, [503])
            delivery = Delivery.objects.get()
            assert delivery.next_attempt_at == start + timedelta(seconds=30)
            assert delivery.last_error == "HTTP 503"
            # Not due yet: nothing is sent.
            assert deliver_due(worker(), http, FAST, now=start + timedelta(seconds=29)).attempted == 0
            second = deliver_due(worker(), http, FAST, now=start + timedelta(seconds=30))
            assert second.codes == [500]
            assert Delivery.objects.get().next_attempt_at == start + timedelta(seconds=30 + 60)  # doubled
            third = deliver_due(worker(), http, FAST, now=start + timedelta(seconds=90))
            assert third.delivered == 1
        assert len(rx.received) == 3
        assert len({r.headers["webhook-id"] for r in rx.received}) == 1  # the same id on every retry
    delivery = Delivery.objects.get()
    assert (delivery.status, delivery.attempts, delivery.last_status_code) == ("delivered", 3, 200)
    log = list(DeliveryAttempt.objects.filter(delivery=delivery).order_by("number"))
    assert [(a.number, a.status_code, a.succeeded) for a in log] == [(1, 503, False), (2, 500, False), (3, 200, True)]


def test_after_n_attempts_a_delivery_is_dead_until_staff_redeliver(
    admin: TenantContext, clerk: TenantContext, make_staff: StaffFactory
) -> None:
    with receiver(statuses=[500, 500, 500]) as rx:
        actions.create_subscription(admin, name="落ちる受信者", url=rx.url, event_types=["registry.household.*"])
        move_in_family(clerk)
        clock = timezone.now()
        with httpx.Client() as http:
            for _ in range(5):
                deliver_due(worker(), http, FAST, now=clock)
                clock += timedelta(hours=1)
        delivery = Delivery.objects.get()
        assert (delivery.status, delivery.attempts) == ("dead", 3)
        assert len(rx.received) == 3

        # The delivery log page shows it, in Japanese, and 再送 is a plain form (no JavaScript).
        page_client = signed_in(Client(), make_staff(CHIYODA, "kanri", Role.MUNICIPAL_ADMIN))
        page = page_client.get("/linkage/deliveries/", {"status": "dead"})
        assert page.status_code == 200
        html = page.content.decode()
        assert "送信失敗（停止）" in html and "HTTP 500" in html and "落ちる受信者" in html
        done = page_client.post(f"/linkage/deliveries/{delivery.pk}/redeliver/")
        assert done.status_code == 302
        with httpx.Client() as http:
            assert deliver_due(worker(), http, FAST).delivered == 1
        assert len(rx.received) == 4
    delivery.refresh_from_db()
    assert delivery.status == "delivered"
    assert DeliveryAttempt.objects.filter(delivery=delivery).count() == 4
    from lgcloud.audit.models import AuditRecord

    assert AuditRecord.objects.filter(action="linkage.delivery.redelivered", subject_id=str(delivery.pk)).exists()


def test_an_unreachable_receiver_is_recorded_without_details(admin: TenantContext, clerk: TenantContext) -> None:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]  # closed again at once: nobody listens there
    actions.create_subscription(admin, name="停止中", url=f"http://127.0.0.1:{port}/x", event_types=["*"])
    move_in_family(clerk)
    with httpx.Client() as http:
        stats = deliver_due(worker(), http, FAST)
    assert stats.failed == 3 and stats.codes == [None, None, None]
    assert {d.last_error for d in Delivery.objects.all()} == {"接続エラー: ConnectError"}


def test_only_the_municipal_admin_sees_the_log_and_other_municipalities_are_hidden(
    admin: TenantContext, clerk: TenantContext, make_staff: StaffFactory
) -> None:
    actions.create_subscription(admin, name="a", url="http://127.0.0.1:9/x", event_types=["*"])
    move_in_family(clerk)
    counter = signed_in(Client(), make_staff(CHIYODA, "madoguchi", Role.COUNTER))
    assert counter.get("/linkage/deliveries/").status_code == 403
    other_admin = signed_in(Client(), make_staff("131041", "kanri", Role.MUNICIPAL_ADMIN))
    assert "該当する配信はありません" in other_admin.get("/linkage/deliveries/").content.decode()
    pk = Delivery.objects.first().pk  # type: ignore[union-attr]
    assert other_admin.post(f"/linkage/deliveries/{pk}/redeliver/").status_code == 404
    assert len(queries.list_deliveries(admin)) == 3


def test_subscriptions_through_the_api_show_the_secret_once(make_staff: StaffFactory) -> None:
    admin = signed_in(Client(), make_staff(CHIYODA, "kanri", Role.MUNICIPAL_ADMIN))
    base = f"/api/v1/municipalities/{CHIYODA}/webhooks/subscriptions"
    created = admin.post(
        base,
        {"name": "x", "url": "http://127.0.0.1:9/x", "event_types": ["registry.*"]},
        content_type="application/json",
    )
    assert created.status_code == 201, created.content
    assert created.json()["secret"].startswith("whsec_")
    listed = admin.get(base).json()
    assert listed == [
        {
            "id": created.json()["id"],
            "name": "x",
            "url": "http://127.0.0.1:9/x",
            "event_types": ["registry.*"],
            "active": True,
        }
    ]
    bad = admin.post(base, {"name": "y", "url": "ftp://x", "event_types": ["a"]}, content_type="application/json")
    assert bad.status_code == 422 and bad.json()["errors"][0]["field"] == "url"


def test_backoff_doubles_and_is_capped() -> None:
    base = timedelta(seconds=10)
    assert [backoff(n, base).total_seconds() for n in (1, 2, 3, 4)] == [10, 20, 40, 80]
    assert backoff(30, base) == timedelta(hours=6)
