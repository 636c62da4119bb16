"""Approval performs the core action of other apps: 転出 with the once-only move (linkage),
児童手当 認定請求 and the flat benefit's 申請 (benefits), each in the approval's transaction."""

from __future__ import annotations

import io
from datetime import date, timedelta

import pytest
from django.core.management import call_command
from django.utils import timezone

from lgcloud.audit.models import AuditRecord
from lgcloud.benefits import actions as benefits_actions
from lgcloud.benefits import queries as benefits_queries
from lgcloud.benefits.models import Application, ChildAllowanceCase, Entitlement, Payment
from lgcloud.core.permissions import Role
from lgcloud.core.tenancy import TenantContext
from lgcloud.linkage.models import Transfer
from lgcloud.procedures import actions
from lgcloud.procedures.models import Submission
from lgcloud.registry import actions as registry_actions
from lgcloud.registry.queries import get_record
from tests.benefits.conftest import programme_file
from tests.conftest import CHIYODA, SHINJUKU
from tests.registry.conftest import person

from .conftest import Resident, resident_client

pytestmark = pytest.mark.django_db
TODAY = timezone.localdate()
WELFARE = TenantContext(CHIYODA, 9003, "福祉 花子", frozenset({Role.WELFARE_CLERK}), "test")
ACCOUNT = {
    "bank_code": "0001",
    "branch_code": "001",
    "account_number": "1234567",
    "account_holder_kana": "ヤマダ タロウ",
}


def run_consumers() -> None:
    call_command("run_consumers", "--once", stdout=io.StringIO(), stderr=io.StringIO())


def file(r: Resident, code: str, values: dict[str, str]) -> int:
    return actions.submit(
        r.ctx,
        code=code,
        atena_number=r.atena_number,
        filing=actions.Filing(values=values),
        today=TODAY,
        resident_account_id=r.account_id,
    )


def approve(ctx: TenantContext, number: int) -> dict[str, object]:
    actions.claim(ctx, number)
    return actions.approve(ctx, number, today=TODAY)


# -- 転出届 → the once-only move -------------------------------------------------------------


def test_move_out_to_a_municipality_on_the_platform_starts_the_once_only_move(
    resident: Resident, clerk_ctx: TenantContext
) -> None:
    values = {
        "planned_on": (TODAY + timedelta(days=5)).isoformat(),
        "destination": "東京都新宿区西新宿二丁目8番1号",
        "scope": "household",
    }
    with pytest.raises(actions.SubmissionInvalid) as bad:
        file(resident, "move_out", values | {"destination_lg_code": "131040"})  # wrong 検査数字
    assert set(bad.value.error_dict) == {"destination_lg_code"}
    assert "131041" in bad.value.error_dict["destination_lg_code"][0].messages[0]  # names the right code

    number = file(resident, "move_out", values | {"destination_lg_code": SHINJUKU})
    result = approve(clerk_ctx, number)
    assert result["destination_lg_code"] == SHINJUKU
    assert {get_record(clerk_ctx, a).status for a in resident.members} == {"moving_out"}
    assert not Transfer.objects.filter(municipality_id=SHINJUKU).exists()

    run_consumers()
    transfer = Transfer.objects.get(municipality_id=SHINJUKU)
    assert transfer.status == "pending" and transfer.source_lg_code == CHIYODA
    assert transfer.source_atena_numbers == resident.members
    assert [(p["family_name"], p["given_name"]) for p in transfer.payload["persons"]] == [
        ("山田", "太郎"),
        ("山田", "花子"),
    ]


def test_move_out_without_a_code_sends_nothing_and_to_its_own_code_is_refused(
    resident: Resident, clerk_ctx: TenantContext
) -> None:
    values = {
        "planned_on": (TODAY + timedelta(days=5)).isoformat(),
        "destination": "大阪府大阪市北区梅田一丁目1番1号",
        "scope": "household",
    }
    with pytest.raises(actions.SubmissionInvalid) as own:  # within the municipality: a 転居届
        file(resident, "move_out", values | {"destination_lg_code": CHIYODA})
    assert "転居届" in own.value.error_dict["destination_lg_code"][0].messages[0]
    assert not Submission.objects.exists()

    plain = file(resident, "move_out", values)  # empty code: allowed
    assert "destination_lg_code" not in approve(clerk_ctx, plain)
    run_consumers()
    assert not Transfer.objects.exists()


# -- 児童手当 認定請求 → the benefits app's case ------------------------------------------------


def _child(r: Resident, born: date) -> str:
    clerk = TenantContext.system(CHIYODA, purpose="test")
    rec = get_record(clerk, r.atena_number)
    return registry_actions.register_birth(
        clerk,
        household_number=rec.household_number,
        person=person(given="一郎", kana=("ヤマダ", "イチロウ"), birth=born, relationship="child"),
        filed_on=born + timedelta(days=3),
    ).atena_numbers[0]


def test_child_allowance_claim_is_received_into_the_case_the_birth_opened(resident: Resident) -> None:
    child = _child(resident, TODAY - timedelta(days=8))
    run_consumers()  # benefits.child_allowance: 出生 → a pending case (申請勧奨) for the 世帯主
    advised = ChildAllowanceCase.objects.get(municipality_id=CHIYODA, claimant_atena_number=resident.atena_number)
    assert advised.state == "pending"

    values = {"children": "山田 一郎", "event_on": (TODAY - timedelta(days=8)).isoformat()} | ACCOUNT
    with pytest.raises(actions.SubmissionInvalid) as bad:  # codes checked as benefits checks them
        file(resident, "child_allowance", values | {"bank_code": "0001", "branch_code": "999"})
    assert set(bad.value.error_dict) == {"branch_code"}
    number = file(resident, "child_allowance", values)

    result = approve(WELFARE, number)
    assert result["case_number"] == advised.case_number and result["case_state"] == "claimed"
    detail = benefits_queries.get_child_allowance_case(WELFARE, advised.case_number)
    assert detail.case.state == "claimed" and detail.case.claimed_on == TODAY  # the filing date is the 請求日
    assert [c.atena_number for c in detail.children] == [child]
    assert [e.kind for e in detail.events] == ["application_advised", "claimed"]
    # The benefits app's own 認定 follows (paid from the month after the 請求).
    approved = benefits_actions.approve_child_allowance(WELFARE, advised.case_number, approved_on=TODAY)
    assert approved.monthly_amount == 15000
    logged = list(
        AuditRecord.objects.filter(
            chain=CHIYODA, action__in=["benefits.child_allowance.claimed", "procedures.submission.approved"]
        )
        .order_by("id")
        .values_list("action", flat=True)
    )
    assert logged == ["benefits.child_allowance.claimed", "procedures.submission.approved"]


def test_a_child_not_in_the_household_refuses_the_approval_and_writes_nothing(resident: Resident) -> None:
    values = {"children": "山田 五郎", "event_on": (TODAY - timedelta(days=2)).isoformat()} | ACCOUNT
    number = file(resident, "child_allowance", values)
    with pytest.raises(actions.SubmissionInvalid):
        approve(WELFARE, number)
    assert not ChildAllowanceCase.objects.exists()
    assert Submission.objects.get(municipality_id=CHIYODA, number=number).status == "in_review"


# -- the flat benefit's application ---------------------------------------------------------


@pytest.fixture
def programme(resident: Resident) -> str:
    data, raw = programme_file("tokubetsu-teigaku-2020.yaml", code="kyufu-2025", reference_date=date(2025, 1, 1))
    benefits_actions.load_programme(WELFARE, data, source=raw)
    benefits_actions.determine_eligibility(WELFARE, "kyufu-2025")
    benefits_actions.register_account(
        WELFARE,
        resident.atena_number,
        "public_funds",
        benefits_actions.AccountInput("0005", "001", 1, "7654321", "ヤマダ タロウ"),
    )
    return "kyufu-2025"


def test_the_application_is_listed_only_while_a_programme_takes_applications(resident: Resident) -> None:
    assert "給付金の申請" not in resident_client(resident).get(f"/portal/{CHIYODA}/").content.decode()
    data, raw = programme_file("tokubetsu-teigaku-2020.yaml", code="kyufu-2025", reference_date=date(2025, 1, 1))
    benefits_actions.load_programme(WELFARE, data, source=raw)
    assert "給付金の申請" not in resident_client(resident).get(f"/portal/{CHIYODA}/").content.decode()
    benefits_actions.determine_eligibility(WELFARE, "kyufu-2025")  # the eligibility list opens it
    assert "給付金の申請" in resident_client(resident).get(f"/portal/{CHIYODA}/").content.decode()


def test_the_form_offers_the_open_programme_and_shows_the_account_on_file(resident: Resident, programme: str) -> None:
    html = resident_client(resident).get(f"/portal/{CHIYODA}/procedures/emergency_benefit/").content.decode()
    assert f'value="{programme}"' in html and "特別定額給付金" in html
    assert "＊＊＊＊321" in html and "7654321" not in html  # masked
    assert "公金受取口座（国に登録された口座" in html  # its source


def test_filing_checks_the_account_as_benefits_does(resident: Resident, programme: str) -> None:
    base = {"programme": programme, "account_source": "entered"}
    with pytest.raises(actions.SubmissionInvalid) as missing:
        file(resident, "emergency_benefit", base)
    assert set(missing.value.error_dict) == {"bank_code", "branch_code", "account_number", "account_holder_kana"}
    with pytest.raises(actions.SubmissionInvalid) as unknown:
        file(resident, "emergency_benefit", base | ACCOUNT | {"bank_code": "0002"})
    assert set(unknown.value.error_dict) == {"bank_code"}
    data, raw = programme_file("push-2026.yaml")
    benefits_actions.load_programme(WELFARE, data, source=raw)
    benefits_actions.determine_eligibility(WELFARE, "push-2026")
    assert Entitlement.objects.filter(programme__code="push-2026").exists()
    with pytest.raises(actions.SubmissionInvalid) as closed:  # プッシュ型: paid without an application
        file(resident, "emergency_benefit", base | ACCOUNT | {"programme": "push-2026"})
    assert set(closed.value.error_dict) == {"programme"}
    assert Submission.objects.count() == 0


def test_filing_twice_pays_the_household_once(resident: Resident, programme: str) -> None:
    first = file(resident, "emergency_benefit", {"programme": programme, "account_source": "public_funds"} | ACCOUNT)
    stored = Submission.objects.get(municipality_id=CHIYODA, number=first).values
    assert stored["account_number"] == ""  # an entered account not used is not kept
    second = file(resident, "emergency_benefit", {"programme": programme, "account_source": "entered"} | ACCOUNT)

    assert approve(WELFARE, first) == {
        "programme": programme,
        "household_number": get_record(WELFARE, resident.atena_number).household_number,
        "account": "公金受取口座",
        "message": "給付金の申請を受け付けました（振込先: 公金受取口座）。振込の日は、あらためてお知らせします。",
    }
    application = Application.objects.get(municipality_id=CHIYODA)
    assert application.applicant_atena_number == resident.atena_number and application.channel == "online"
    assert application.account.account_number == "7654321"
    with pytest.raises(actions.SubmissionInvalid) as dup:
        approve(WELFARE, second)
    assert "受付済み" in dup.value.messages[0]
    assert Submission.objects.get(municipality_id=CHIYODA, number=second).status == "in_review"
    actions.reject(WELFARE, second, reason="この世帯の申請は受付済みです。")
    assert Application.objects.count() == 1

    benefits_actions.create_payment_batch(WELFARE, programme, transfer_date=TODAY + timedelta(days=10))
    benefits_actions.create_payment_batch(WELFARE, programme, transfer_date=TODAY + timedelta(days=17))
    paid = list(Payment.objects.filter(municipality_id=CHIYODA))
    assert len(paid) == 1 and paid[0].amount == 200000 and paid[0].account_number == "7654321"


def test_at_the_counter_the_application_is_recorded_as_counter(resident: Resident, programme: str) -> None:
    counter = TenantContext(CHIYODA, 9005, "窓口 花子", frozenset({Role.COUNTER}), "test")
    assert "benefits:case:read" not in counter.permissions
    number = actions.submit(
        counter,
        code="emergency_benefit",
        atena_number=resident.atena_number,
        filing=actions.Filing(values={"programme": programme, "account_source": "public_funds"}),
        today=TODAY,
    )
    approve(WELFARE, number)
    assert Application.objects.get(municipality_id=CHIYODA).channel == "counter"
