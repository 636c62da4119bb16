"""Once-only move between two municipalities on the platform, through events only, audited on both sides."""

from __future__ import annotations

import io
from datetime import date, timedelta

import pytest
from django.core.management import call_command
from django.test import Client
from django.utils import timezone

from lgcloud.audit.models import AuditRecord
from lgcloud.core.permissions import Role
from lgcloud.core.tenancy import TenantContext
from lgcloud.linkage import queries
from lgcloud.linkage.models import Event, Transfer
from lgcloud.municipalities.actions import update_municipality
from lgcloud.registry import actions
from lgcloud.registry import queries as registry_queries
from lgcloud.registry.models import Person
from tests.conftest import StaffFactory, signed_in
from tests.linkage.conftest import CHIYODA, SHINJUKU, clerk_of, move_in_family
from tests.registry.conftest import person

pytestmark = pytest.mark.django_db


def run_consumers() -> None:
    call_command("run_consumers", "--once", stdout=io.StringIO(), stderr=io.StringIO())


@pytest.fixture
def on_platform(tokyo: list[str]) -> None:
    system = TenantContext.system(None, purpose="test")
    for code in (CHIYODA, SHINJUKU):
        update_municipality(system, code, on_platform=True)


def test_a_household_moves_from_a_to_b_without_re_entry(on_platform: None, make_staff: StaffFactory) -> None:
    a = clerk_of(CHIYODA)
    family = move_in_family(a)
    child = actions.register_birth(
        a,
        household_number=family.household_numbers[0],
        person=person(given="一郎", kana=("ヤマダ", "イチロウ"), birth=date(2020, 6, 6), relationship="child"),
        filed_on=date(2020, 6, 10),
    ).atena_numbers[0]
    # A stays-behind member would not move: the whole household moves here.
    movers = [*family.atena_numbers, child]
    today = timezone.localdate()
    actions.register_move_out(
        a,
        atena_numbers=movers,
        planned_date=today,
        filed_on=today - timedelta(days=3),
        destination="東京都新宿区西新宿二丁目8番1号",
        destination_lg_code=SHINJUKU,
    )
    run_consumers()

    # B holds one pending transfer with the three persons' 転出証明書 items (never a 個人番号).
    transfer = Transfer.objects.get(municipality_id=SHINJUKU)
    assert transfer.status == "pending" and transfer.source_lg_code == CHIYODA
    assert transfer.source_atena_numbers == movers
    names = [(p["family_name"], p["given_name"], p["relationship"]) for p in transfer.payload["persons"]]
    assert names == [("山田", "太郎", "head"), ("山田", "花子", "wife"), ("山田", "一郎", "child")]
    assert transfer.payload["persons"][0]["address"] == "東京都千代田区霞が関一丁目1番1号"
    assert "individual_number" not in str(transfer.payload)
    assert Event.objects.filter(municipality_id=SHINJUKU, type="linkage.transfer.received").count() == 1
    # Audited on both sides: A, as read by B for the stated purpose; B, as received.
    sent = AuditRecord.objects.filter(municipality_id=CHIYODA, action="linkage.transfer.certificate_sent")
    assert sorted(sent.values_list("subject_id", flat=True)) == sorted(movers)
    assert {r.actor_name for r in sent} == {"転出先 新宿区（131041）"}
    assert {r.purpose for r in sent} == {"registry.transfer_certificate"}
    assert AuditRecord.objects.filter(municipality_id=SHINJUKU, action="linkage.transfer.received").count() == 3
    run_consumers()  # running again changes nothing
    assert len(Transfer.objects.get(municipality_id=SHINJUKU).payload["persons"]) == 3

    # B's clerk confirms on the page and only completes the address.
    b_clerk = signed_in(Client(), make_staff(SHINJUKU, "juki", Role.REGISTRY_CLERK))
    listing = b_clerk.get("/linkage/transfers/").content.decode()
    assert "千代田区" in listing and "3人" in listing
    url = f"/linkage/transfers/{transfer.transfer_id}/"
    assert "山田　花子" in b_clerk.get(url).content.decode()
    refused = b_clerk.post(url, {"address": "", "effective_date": today, "filed_on": today, "head": movers[0]})
    assert refused.status_code == 400
    assert not Person.objects.filter(municipality_id=SHINJUKU).exists()
    done = b_clerk.post(
        url,
        {
            "address": "東京都新宿区西新宿二丁目8番1号",
            "address_detail": "101号",
            "effective_date": today,
            "filed_on": today,
            "head": movers[0],
        },
    )
    assert done.status_code == 302, done.content.decode()
    arrived = list(Person.objects.filter(municipality_id=SHINJUKU).order_by("atena_number"))
    assert [(p.family_name, p.given_name, p.relationship, p.address) for p in arrived] == [
        ("山田", "太郎", "head", "東京都新宿区西新宿二丁目8番1号"),
        ("山田", "花子", "wife", "東京都新宿区西新宿二丁目8番1号"),
        ("山田", "一郎", "child", "東京都新宿区西新宿二丁目8番1号"),
    ]
    assert len({p.household_id for p in arrived}) == 1
    b_rec = registry_queries.get_record(clerk_of(SHINJUKU), arrived[0].atena_number)
    assert b_rec.previous_address == "東京都千代田区霞が関一丁目1番1号"
    assert b_rec.registered_domicile == "" and b_rec.birth_date == date(1980, 4, 1)
    # A's records stay 転出予定 until the 転出確定通知 arrives through B's feed.
    assert set(Person.objects.filter(municipality_id=CHIYODA).values_list("status", flat=True)) == {"moving_out"}
    run_consumers()
    a_people = Person.objects.filter(municipality_id=CHIYODA)
    assert set(a_people.values_list("status", flat=True)) == {"removed"}
    assert {p.record["removal_reason"] for p in a_people} == {"moved_out"}
    assert Event.objects.filter(municipality_id=CHIYODA, type="registry.person.moved_out").count() == 3
    notices = AuditRecord.objects.filter(municipality_id=CHIYODA, action="linkage.transfer.notice_received")
    assert notices.count() == 3
    assert Transfer.objects.get().status == "confirmed"
    # The transfer is no longer pending on B's list.
    assert "確認待ちの転入予定はありません" in b_clerk.get("/linkage/transfers/").content.decode()

    # The resident in A can see that 新宿区 received their data, when and why.
    history = queries.access_history(clerk_of(CHIYODA), movers[0])
    received = [e for e in history if e.kind == "municipality" and e.action == "linkage.transfer.certificate_sent"]
    assert received and received[0].who == "転出先 新宿区（131041）"
    assert received[0].purpose_label.startswith("転出証明書情報の送付")


def test_a_move_to_a_municipality_not_on_the_platform_sends_nothing(on_platform: None) -> None:
    a = clerk_of(CHIYODA)
    family = move_in_family(a)
    today = timezone.localdate()
    actions.register_move_out(
        a,
        atena_numbers=list(family.atena_numbers),
        planned_date=today,
        filed_on=today,
        destination="東京都八王子市元本郷町三丁目24番1号",
        destination_lg_code="132012",  # 八王子市: listed, not on the platform
    )
    run_consumers()
    assert not Transfer.objects.exists()
    assert not AuditRecord.objects.filter(action="linkage.transfer.certificate_sent").exists()


def test_other_municipalities_cannot_see_or_confirm_a_transfer(on_platform: None) -> None:
    a = clerk_of(CHIYODA)
    family = move_in_family(a)
    today = timezone.localdate()
    actions.register_move_out(
        a,
        atena_numbers=list(family.atena_numbers),
        planned_date=today,
        filed_on=today,
        destination="新宿区",
        destination_lg_code=SHINJUKU,
    )
    run_consumers()
    transfer = Transfer.objects.get()
    from django.http import Http404

    from lgcloud.linkage.actions import confirm_transfer

    assert queries.list_transfers(a) == []
    with pytest.raises(Http404):
        confirm_transfer(a, transfer_id=str(transfer.transfer_id), address="x", effective_date=today, filed_on=today)
    with pytest.raises(Http404):
        queries.get_transfer(a, str(transfer.transfer_id))


def test_the_destination_code_is_checked(tokyo: list[str]) -> None:
    from django.core.exceptions import ValidationError

    a = clerk_of(CHIYODA)
    family = move_in_family(a)
    today = timezone.localdate()
    for code, message in (("131042", "検査数字"), (CHIYODA, "自団体")):
        with pytest.raises(ValidationError, match=message):
            actions.register_move_out(
                a,
                atena_numbers=list(family.atena_numbers),
                planned_date=today,
                filed_on=today,
                destination="x",
                destination_lg_code=code,
            )
