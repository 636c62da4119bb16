"""児童手当 (from 2024-10, with the earlier rules kept for earlier months): who counts, how much, when paid.

Pure: the caller passes the children with their birth dates and 確認書, the month, and the law
in force in that month (see benefits.child_allowance_law); nothing here reads a database or
the clock. Months are the first day of the month.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date


@dataclass(frozen=True)
class ChildAllowanceLaw:
    eligible_age: int  # 支給対象: この年齢に達した日以後の最初の3月31日まで
    counting_age: int  # 第3子以降の算定に数える年齢（同上）
    under_3: int
    third_or_later_under_3: int
    third_or_later: int
    third_or_later_from_lower_secondary: int
    other: int
    payment_months: tuple[int, ...]
    reference: str = ""


@dataclass(frozen=True)
class Child:
    atena_number: str
    birth_date: date
    confirmation_form: bool = False  # 監護相当・生計費の負担についての確認書 (for those past the eligible age)


@dataclass(frozen=True)
class ChildAmount:
    atena_number: str
    rank: int  # 第何子として数えたか
    amount: int  # 0: counted only (past the eligible age)


def first_of_month(day: date) -> date:
    return day.replace(day=1)


def add_months(month: date, n: int) -> date:
    y, m = divmod(month.month - 1 + n, 12)
    return date(month.year + y, m + 1, 1)


def age_reached_on(birth_date: date, years: int) -> date:
    """The day a person reaches ``years`` of age: the day before the birthday (年齢計算ニ関スル法律, 民法 第143条)."""
    try:
        anniversary = birth_date.replace(year=birth_date.year + years)
    except ValueError:  # 29 February
        anniversary = date(birth_date.year + years, 3, 1)
    return date.fromordinal(anniversary.toordinal() - 1)


def first_march_31_after(birth_date: date, years: int) -> date:
    """「…歳に達する日以後の最初の3月31日」."""
    reached = age_reached_on(birth_date, years)
    end = date(reached.year, 3, 31)
    return end if reached <= end else date(reached.year + 1, 3, 31)


def _is_under_3(child: Child, month: date) -> bool:
    """3歳未満: through the month in which the child reaches 3 (3歳に達する日の属する月まで)."""
    return month <= first_of_month(age_reached_on(child.birth_date, 3))


def monthly_amounts(children: list[Child], month: date, law: ChildAllowanceLaw) -> list[ChildAmount]:
    """Each child's amount for ``month``, counted oldest first; past the eligible age: counted (with 確認書), 0 yen."""
    counted: list[tuple[Child, bool]] = []
    for c in children:
        if c.birth_date >= month:
            continue  # born in or after the month: not yet a child of this month
        eligible = month <= first_march_31_after(c.birth_date, law.eligible_age)
        countable = month <= first_march_31_after(c.birth_date, law.counting_age) and c.confirmation_form
        if eligible or countable:
            counted.append((c, eligible))
    counted.sort(key=lambda pair: (pair[0].birth_date, pair[0].atena_number))
    out = []
    for rank, (c, eligible) in enumerate(counted, start=1):
        if not eligible:
            out.append(ChildAmount(c.atena_number, rank, 0))
            continue
        if rank >= 3:
            if _is_under_3(c, month):
                amount = law.third_or_later_under_3
            elif month <= first_march_31_after(c.birth_date, 12):  # 小学校修了前
                amount = law.third_or_later
            else:
                amount = law.third_or_later_from_lower_secondary
        else:
            amount = law.under_3 if _is_under_3(c, month) else law.other
        out.append(ChildAmount(c.atena_number, rank, amount))
    return out


def monthly_total(children: list[Child], month: date, law: ChildAllowanceLaw) -> int:
    return sum(a.amount for a in monthly_amounts(children, month, law))


def months_paid_in(pay_month: date, law_at: Callable[[date], ChildAllowanceLaw]) -> list[date]:
    """The months a pay month pays: every month since the previous pay month (児童手当法 第8条 第4項).

    ``law_at(month)`` gives the law in force in a month, so the change of schedule works across
    the reform: October 2024 (new law) still pays June–September, the months since the last pay
    month of the old schedule (June); December 2024 pays October and November.
    """
    if pay_month.month not in law_at(pay_month).payment_months:
        return []
    months: list[date] = []
    month = add_months(pay_month, -1)
    while month.month not in law_at(month).payment_months:
        months.insert(0, month)
        month = add_months(month, -1)
    months.insert(0, month)  # the previous pay month's own month is paid now, with those after it
    return months


def first_month_of_entitlement(claimed_on: date) -> date:
    """支給は認定請求をした日の属する月の翌月から（児童手当法 第8条 第2項）."""
    return add_months(first_of_month(claimed_on), 1)


def last_month_of_entitlement(event_on: date) -> date:
    """支給すべき事由が消滅した日の属する月で終わる（児童手当法 第8条 第2項）."""
    return first_of_month(event_on)
