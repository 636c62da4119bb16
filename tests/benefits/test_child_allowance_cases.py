"""児童手当 cases driven by 住民記録 events: 出生 → 申請勧奨 → 認定請求 → 認定 → 額改定 → 消滅, and the payments."""

from __future__ import annotations

from datetime import date

import pytest

from lgcloud.benefits import actions
from lgcloud.benefits.models import ChildAllowanceCase, ChildAllowanceEvent, ChildAllowancePayment
from lgcloud.core.tenancy import TenantContext
from lgcloud.linkage.consumers import run_all
from lgcloud.registry.actions import confirm_move_out, register_birth, register_death, register_move_out

from ..registry.conftest import person
from .conftest import CHIYODA, move_in


def _consume() -> dict[str, int]:
    run = run_all([CHIYODA], only=["benefits.child_allowance"])
    assert not run.failed
    return run.handled


def _notices(case: ChildAllowanceCase) -> list[str]:
    return list(
        ChildAllowanceEvent.objects.filter(case=case, notice=True).order_by("id").values_list("kind", flat=True)
    )


@pytest.mark.django_db
def test_a_birth_opens_a_case_that_is_claimed_approved_changed_and_ended(
    welfare: TenantContext, registry_clerk: TenantContext
) -> None:
    father, mother, first_child = move_in(
        registry_clerk,
        [
            person(),
            person(given="花子", kana=("ヤマダ", "ハナコ"), birth=date(1982, 5, 5), sex="2", relationship="wife"),
            person(given="一郎", kana=("ヤマダ", "イチロウ"), birth=date(2012, 6, 6), relationship="child"),
        ],
        date(2024, 4, 1),
    )
    _consume()
    case = ChildAllowanceCase.objects.get()
    assert (case.claimant_atena_number, case.state) == (father, "pending")  # 申請勧奨 to the 世帯主
    household = case.household_number

    actions.claim_child_allowance(welfare, case.case_number, claimed_on=date(2024, 10, 15))
    case = actions.approve_child_allowance(welfare, case.case_number, approved_on=date(2024, 10, 20))
    assert (case.first_month, case.monthly_amount) == (date(2024, 11, 1), 10_000)

    baby = register_birth(
        registry_clerk,
        household_number=household,
        person=person(given="二郎", kana=("ヤマダ", "ジロウ"), birth=date(2025, 1, 10), relationship="child"),
        filed_on=date(2025, 1, 12),
    ).atena_numbers[0]
    _consume()
    assert ChildAllowanceCase.objects.count() == 1  # the same claimant's case: 額改定 is needed
    actions.claim_child_allowance(welfare, case.case_number, claimed_on=date(2025, 1, 20))  # 額改定請求
    case.refresh_from_db()
    assert case.monthly_amount == 25_000  # 10,000 + 15,000 (under 3) from February

    paid = actions.run_child_allowance_payments(welfare, date(2025, 2, 1))
    assert paid.result["months"] == ["2024-12-01", "2025-01-01"]
    assert ChildAllowancePayment.objects.get(pay_month=date(2025, 2, 1)).amount == 20_000
    again = actions.run_child_allowance_payments(welfare, date(2025, 2, 1))
    assert again.pk == paid.pk and ChildAllowancePayment.objects.count() == 1

    register_death(registry_clerk, atena_number=baby, effective_date=date(2025, 3, 5), filed_on=date(2025, 3, 6))
    _consume()
    case.refresh_from_db()
    assert case.monthly_amount == 10_000  # 額改定（減額） from April

    register_move_out(
        registry_clerk,
        atena_numbers=[father, mother, first_child],
        planned_date=date(2025, 5, 20),
        filed_on=date(2025, 5, 10),
        destination="大阪府大阪市北区梅田一丁目1番1号",
    )
    confirm_move_out(
        registry_clerk,
        atena_numbers=[father, mother, first_child],
        effective_date=date(2025, 5, 20),
        notified_on=date(2025, 5, 25),
    )
    _consume()
    case.refresh_from_db()
    assert (case.state, case.last_month) == ("ended", date(2025, 5, 1))  # 消滅: paid through the month of the move
    assert _notices(case) == [
        "application_advised",
        "approved",
        "child_added",
        "amount_changed",
        "amount_changed",
        "ended",
    ]

    actions.run_child_allowance_payments(welfare, date(2025, 4, 1))
    actions.run_child_allowance_payments(welfare, date(2025, 6, 1))
    by_month = dict(ChildAllowancePayment.objects.values_list("pay_month", "amount"))
    assert by_month[date(2025, 4, 1)] == 25_000 + 25_000  # Feb and March with the baby (death in March)
    assert by_month[date(2025, 6, 1)] == 10_000 + 10_000  # April and May: the month of the move is the last
    with pytest.raises(actions.BenefitRefused):
        actions.run_child_allowance_payments(welfare, date(2025, 7, 1))


@pytest.mark.django_db
def test_one_open_case_per_claimant_and_adults_open_none(welfare: TenantContext, registry_clerk: TenantContext) -> None:
    move_in(registry_clerk, [person("佐藤", "一", kana=("サトウ", "ハジメ"), birth=date(1950, 1, 1))], date(2025, 1, 1))
    assert _consume() == {"benefits.child_allowance": 1}
    assert ChildAllowanceCase.objects.count() == 0
    head, *_ = move_in(
        registry_clerk,
        [
            person("鈴木", "三郎", kana=("スズキ", "サブロウ"), birth=date(1980, 3, 3)),
            person("鈴木", "一", kana=("スズキ", "ハジメ"), birth=date(2015, 1, 1), relationship="child"),
            person("鈴木", "二", kana=("スズキ", "フタバ"), birth=date(2017, 1, 1), sex="2", relationship="child"),
        ],
        date(2025, 2, 1),
        "東京都千代田区丸の内二丁目1番1号",
    )
    _consume()
    case = ChildAllowanceCase.objects.get()
    assert case.claimant_atena_number == head and case.children.count() == 2
    from django.db import IntegrityError, transaction

    with pytest.raises(IntegrityError), transaction.atomic():
        ChildAllowanceCase.objects.create(
            municipality_id=CHIYODA,
            case_number=999,
            claimant_atena_number=head,
            household_number="x",
            opened_by="test",
            opened_on=date(2025, 2, 1),
        )
