"""児童手当 rules (pure): ages to the first 31 March, 第3子 counting with 確認書, amounts before and after 2024-10."""

from __future__ import annotations

from datetime import date

import pytest

from lgcloud.benefits.parameters import child_allowance_law
from lgcloud.benefits.rules.child_allowance import (
    Child,
    first_march_31_after,
    monthly_amounts,
    monthly_total,
    months_paid_in,
)

NOV_2024 = date(2024, 11, 1)  # under the 2024-10 law
SEP_2024 = date(2024, 9, 1)  # under the old law


def law(month: date):  # type: ignore[no-untyped-def]
    return child_allowance_law(month)


@pytest.mark.parametrize(
    ("birth", "until"),
    [
        (date(2006, 4, 1), date(2024, 3, 31)),  # reaches 18 on 31 March 2024 (早生まれ): that same day
        (date(2006, 4, 2), date(2025, 3, 31)),  # reaches 18 on 1 April 2024: the next 31 March
        (date(2006, 12, 25), date(2025, 3, 31)),
    ],
)
def test_eligible_until_the_first_31_march_after_reaching_18(birth: date, until: date) -> None:
    assert first_march_31_after(birth, 18) == until


def test_the_standards_counting_example_children_20_15_10() -> None:
    """standards.md §7.1: aged 20, 15 and 10 count as 1st, 2nd and 3rd, so the 10-year-old gets 30,000."""
    month = date(2025, 1, 1)
    kids = [
        Child("a", date(2004, 6, 1), confirmation_form=True),  # 20: counted with the 確認書, no allowance
        Child("b", date(2009, 6, 1)),  # 15
        Child("c", date(2014, 6, 1)),  # 10
    ]
    assert [(a.rank, a.amount) for a in monthly_amounts(kids, month, law(month))] == [(1, 0), (2, 10_000), (3, 30_000)]
    without_form = [Child("a", date(2004, 6, 1)), *kids[1:]]
    assert monthly_total(without_form, month, law(month)) == 20_000


def test_a_change_in_law_computes_on_both_dates() -> None:
    kids = [
        Child("a", date(2006, 12, 1), confirmation_form=True),
        Child("b", date(2009, 6, 1)),
        Child("c", date(2023, 1, 1)),
    ]
    # Old law (Sept 2024): a (17, high-school age) is counted but not paid; c, the 3rd and under 3: 15,000.
    assert [(a.atena_number, a.rank, a.amount) for a in monthly_amounts(kids, SEP_2024, law(SEP_2024))] == [
        ("a", 1, 0),
        ("b", 2, 10_000),
        ("c", 3, 15_000),
    ]
    # New law (Nov 2024): a is eligible to the March after 18; c, the 3rd child: 30,000.
    assert [(a.atena_number, a.rank, a.amount) for a in monthly_amounts(kids, NOV_2024, law(NOV_2024))] == [
        ("a", 1, 10_000),
        ("b", 2, 10_000),
        ("c", 3, 30_000),
    ]


def test_under_3_until_the_month_of_the_third_birthday() -> None:
    kid = [Child("x", date(2022, 5, 10))]  # reaches 3 on 2025-05-09
    assert monthly_total(kid, date(2025, 5, 1), law(NOV_2024)) == 15_000
    assert monthly_total(kid, date(2025, 6, 1), law(NOV_2024)) == 10_000


@pytest.mark.parametrize(
    ("pay_month", "months"),
    [
        (date(2024, 10, 1), ["2024-06", "2024-07", "2024-08", "2024-09"]),  # the last payment of the old schedule
        (date(2024, 12, 1), ["2024-10", "2024-11"]),  # the first payment under the 2024-10 law
        (date(2025, 2, 1), ["2024-12", "2025-01"]),
        (date(2025, 3, 1), []),
    ],
)
def test_pay_months(pay_month: date, months: list[str]) -> None:
    assert [m.isoformat()[:7] for m in months_paid_in(pay_month, law)] == months
