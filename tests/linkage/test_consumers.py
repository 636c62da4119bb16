"""Internal consumers: each event once, in order, with the handler's writes and the cursor in one transaction."""

from __future__ import annotations

import io
from datetime import date

import pytest
from django.core.management import call_command

from lgcloud.audit.actions import record as audit
from lgcloud.audit.models import AuditRecord
from lgcloud.core.tenancy import TenantContext
from lgcloud.linkage.consumers import EventView, consumer, registered, run_all
from lgcloud.linkage.models import ConsumerCursor
from lgcloud.municipalities.actions import update_municipality
from lgcloud.registry import actions
from tests.linkage.conftest import CHIYODA, SHINJUKU, clerk_of, move_in_family

pytestmark = pytest.mark.django_db


def test_a_consumer_sees_each_matching_event_once_in_order(tokyo: list[str], own_consumers: list[str]) -> None:
    seen: list[tuple[str, int, str]] = []

    @consumer("test.tax", event_types=["registry.person.*"])
    def handle(ctx: TenantContext, event: EventView) -> None:
        seen.append((ctx.tenant_code, event.sequence, event.type))
        # A consumer's own writes commit with its cursor (an audit record stands in for them).
        audit(ctx, "test.tax.noted", subject_type="person", subject_id=event.subject)

    own_consumers.append("test.tax")
    family = move_in_family(clerk_of(CHIYODA))
    move_in_family(clerk_of(SHINJUKU))
    run = run_all([CHIYODA, SHINJUKU], only=["test.tax"])
    assert run.handled == {"test.tax": 4} and run.failed == {}
    assert seen == [
        (CHIYODA, 1, "registry.person.moved_in"),
        (CHIYODA, 2, "registry.person.moved_in"),
        (SHINJUKU, 1, "registry.person.moved_in"),
        (SHINJUKU, 2, "registry.person.moved_in"),
    ]
    # The household event (3) did not match, but the cursor moved past it.
    assert ConsumerCursor.objects.get(municipality_id=CHIYODA, consumer="test.tax").last_sequence == 3
    assert run_all([CHIYODA, SHINJUKU], only=["test.tax"]).handled == {"test.tax": 0}
    actions.register_address_change(
        clerk_of(CHIYODA),
        atena_numbers=list(family.atena_numbers),
        address="東京都千代田区一番町1",
        effective_date=date(2025, 1, 1),
        filed_on=date(2025, 1, 1),
    )
    run_all([CHIYODA], only=["test.tax"])
    assert [s[2] for s in seen[4:]] == ["registry.person.address_changed"] * 2


def test_a_failing_handler_rolls_back_and_stops_until_it_succeeds(tokyo: list[str], own_consumers: list[str]) -> None:
    broken = {"on": True}
    handled: list[int] = []

    @consumer("test.flaky", event_types=["*"])
    def handle(ctx: TenantContext, event: EventView) -> None:
        audit(ctx, "test.flaky.noted", subject_type="event", subject_id=event.sequence)
        if event.sequence == 2 and broken["on"]:
            raise RuntimeError("山田 太郎 の処理に失敗")  # personal data in the message must not be kept
        handled.append(event.sequence)

    own_consumers.append("test.flaky")
    move_in_family(clerk_of(CHIYODA))
    first = run_all([CHIYODA], only=["test.flaky"])
    assert handled == [1]
    assert first.failed == {f"test.flaky@{CHIYODA}": "registry.person.moved_in #2: RuntimeError"}
    cursor = ConsumerCursor.objects.get(municipality_id=CHIYODA, consumer="test.flaky")
    assert (cursor.last_sequence, cursor.failures) == (1, 1)
    assert "山田" not in cursor.last_error
    # The failed event's write was rolled back with it.
    assert list(AuditRecord.objects.filter(action="test.flaky.noted").values_list("subject_id", flat=True)) == ["1"]
    run_all([CHIYODA], only=["test.flaky"])  # still broken: no progress, no skipping
    assert handled == [1]
    broken["on"] = False
    run_all([CHIYODA], only=["test.flaky"])
    assert handled == [1, 2, 3]
    cursor.refresh_from_db()
    assert (cursor.last_sequence, cursor.failures, cursor.last_error) == (3, 0, "")


def test_run_consumers_command_runs_every_registered_consumer(tokyo: list[str]) -> None:
    system = TenantContext.system(None, purpose="test")
    update_municipality(system, CHIYODA, on_platform=True)
    move_in_family(clerk_of(CHIYODA))
    assert "linkage.transfers" in registered()
    err = io.StringIO()
    call_command("run_consumers", "--once", stdout=io.StringIO(), stderr=err)
    assert "linkage.transfers" in err.getvalue()
    assert ConsumerCursor.objects.get(municipality_id=CHIYODA, consumer="linkage.transfers").last_sequence == 3


def test_a_consumer_name_is_registered_once(own_consumers: list[str]) -> None:
    def a(ctx: TenantContext, event: EventView) -> None: ...

    def b(ctx: TenantContext, event: EventView) -> None: ...

    consumer("test.dup", event_types=["*"])(a)
    own_consumers.append("test.dup")
    with pytest.raises(ValueError, match="already registered"):
        consumer("test.dup", event_types=["*"])(b)
