"""The outbox: every 異動 writes its events in its own transaction, in a gap-free per-municipality order."""

from __future__ import annotations

from datetime import date

import pytest
from django.core.exceptions import ValidationError
from django.db import transaction

from lgcloud.core import outbox
from lgcloud.core.tenancy import TenantContext
from lgcloud.linkage.models import Event
from lgcloud.registry import actions
from lgcloud.registry.actions import ChangeResult
from tests.linkage.conftest import CHIYODA, SHINJUKU, clerk_of, move_in_family
from tests.registry.conftest import person

pytestmark = pytest.mark.django_db


def events(lg_code: str) -> list[Event]:
    return list(Event.objects.filter(municipality_id=lg_code).order_by("sequence"))


def test_a_move_in_announces_each_person_and_the_new_household(family: ChangeResult) -> None:
    rows = events(CHIYODA)
    head, wife = family.atena_numbers
    assert [(e.type, e.subject_type, e.subject) for e in rows] == [
        ("registry.person.moved_in", "person", head),
        ("registry.person.moved_in", "person", wife),
        ("registry.household.changed", "household", family.household_numbers[0]),
    ]
    assert [e.sequence for e in rows] == [1, 2, 3]
    first = rows[0]
    assert first.effective_date == date(2024, 4, 1)
    assert first.schema_version == 1
    assert first.data == {
        "change_number": family.change_number,
        "change_type": "move_in",
        "household_number": family.household_numbers[0],
        "status": "resident",
    }
    assert {"family_name", "address", "birth_date", "household_number"} <= set(first.changed_items)
    assert rows[2].data["created"] is True
    assert rows[2].data["persons"] == [head, wife]


def test_events_name_changed_items_but_carry_no_values(clerk: TenantContext, family: ChangeResult) -> None:
    head, wife = family.atena_numbers
    actions.register_address_change(
        clerk,
        atena_numbers=[head, wife],
        address="東京都千代田区丸の内二丁目2番2号",
        effective_date=date(2025, 1, 10),
        filed_on=date(2025, 1, 10),
    )
    moved = [e for e in events(CHIYODA) if e.type == "registry.person.address_changed"]
    assert [e.subject for e in moved] == [head, wife]
    assert moved[0].changed_items == ["address", "address_since", "pre_move_address"]
    text = str([(e.changed_items, e.data) for e in events(CHIYODA)])
    for value in ("丸の内", "霞が関", "山田", "1980-04-01"):
        assert value not in text


def test_a_individual_number_never_reaches_an_event(clerk: TenantContext) -> None:
    actions.register_move_in(
        clerk,
        persons=[person(individual_number="621498320257")],
        address="東京都千代田区一番町1",
        effective_date=date(2024, 4, 1),
        filed_on=date(2024, 4, 1),
        previous_address="",
    )
    for e in events(CHIYODA):
        assert "621498320257" not in str(e.data) + str(e.changed_items)
        assert "individual_number" not in e.changed_items
    with pytest.raises(outbox.OutboxError), transaction.atomic():
        outbox.emit(clerk, type="x.y.z", subject="1", effective_date=None, changed_items=["individual_number"])


def test_death_of_the_head_announces_the_death_and_the_successors_household_change(
    clerk: TenantContext, family: ChangeResult
) -> None:
    head, wife = family.atena_numbers
    actions.register_death(
        clerk, atena_number=head, effective_date=date(2025, 2, 1), filed_on=date(2025, 2, 2), new_head=wife
    )
    latest = events(CHIYODA)[3:]
    assert [(e.type, e.subject) for e in latest] == [
        ("registry.person.died", head),
        ("registry.person.household_changed", wife),
        ("registry.household.changed", family.household_numbers[0]),
    ]
    assert latest[1].changed_items == ["is_household_head", "relationship"]


def test_a_refused_change_leaves_no_event_and_no_gap(clerk: TenantContext, family: ChangeResult) -> None:
    before = events(CHIYODA)
    with pytest.raises(ValidationError):
        actions.register_address_change(
            clerk,
            atena_numbers=[family.atena_numbers[0]],
            address="東京都千代田区二番町2",
            effective_date=date(2030, 1, 1),  # in the future: refused
            filed_on=date(2030, 1, 1),
        )
    assert events(CHIYODA) == before
    actions.register_address_change(
        clerk,
        atena_numbers=list(family.atena_numbers),
        address="東京都千代田区二番町2",
        effective_date=date(2025, 1, 1),
        filed_on=date(2025, 1, 1),
    )
    assert [e.sequence for e in events(CHIYODA)] == list(range(1, len(before) + 3))


def test_an_event_rolls_back_with_the_transaction_that_wrote_it(clerk: TenantContext) -> None:
    class Boom(Exception):
        pass

    with pytest.raises(Boom), transaction.atomic():
        move_in_family(clerk)
        assert len(events(CHIYODA)) == 3
        raise Boom
    assert events(CHIYODA) == []


def test_each_municipality_has_its_own_sequence(clerk: TenantContext) -> None:
    move_in_family(clerk)
    other = clerk_of(SHINJUKU)
    move_in_family(other)
    assert [e.sequence for e in events(SHINJUKU)] == [1, 2, 3]
    assert [e.sequence for e in events(CHIYODA)] == [1, 2, 3]


@pytest.mark.django_db(transaction=True)
def test_emit_refuses_outside_a_transaction(tokyo: list[str]) -> None:
    with pytest.raises(outbox.OutboxError, match="inside the transaction"):
        outbox.emit(clerk_of(CHIYODA), type="x.y.z", subject="1", effective_date=None)


def test_emit_refuses_without_a_writer(clerk: TenantContext) -> None:
    saved = outbox._writer
    outbox._writer = None
    try:
        with pytest.raises(outbox.OutboxError, match="no outbox writer"), transaction.atomic():
            outbox.emit(clerk, type="x.y.z", subject="1", effective_date=None)
        # A 異動 without a writer is refused whole: nothing is recorded.
        with pytest.raises(outbox.OutboxError):
            move_in_family(clerk)
    finally:
        outbox._writer = saved
    assert events(CHIYODA) == []
    from lgcloud.registry.models import Change

    assert not Change.objects.filter(municipality_id=CHIYODA).exists()
