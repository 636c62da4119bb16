"""A flat benefit defined as data (特別定額給付金 style): the programme file and the per-household amount.

Pure: the programme file's content and the members of each household on the reference date
go in; the entitlements come out.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date
from typing import Any

MODES = ("application", "push")
PAYEES = ("household_head",)
ACCOUNT_SOURCES = ("public_funds", "application")


class ProgrammeError(ValueError):
    """The programme file is not valid (Japanese message)."""


@dataclass(frozen=True)
class ProgrammeDefinition:
    code: str
    name: str
    amount_per_person: int
    reference_date: date
    payee: str
    mode: str
    account_sources: tuple[str, ...]
    reference: str
    payer: dict[str, Any] = field(default_factory=dict)


def parse_programme(data: dict[str, Any]) -> ProgrammeDefinition:
    problems = []
    code = str(data.get("code") or "")
    if not code or len(code) > 40 or not all(c.isalnum() or c in "-_" for c in code):
        problems.append("code は40文字以内の英数字・ハイフンです。")
    amount = data.get("amount_per_person")
    if not isinstance(amount, int) or isinstance(amount, bool) or amount <= 0:
        problems.append("amount_per_person は1円以上の整数（円）です。")
    if not isinstance(data.get("reference_date"), date):
        problems.append("reference_date（基準日）は YYYY-MM-DD の日付です。")
    if data.get("payee") not in PAYEES:
        problems.append("payee は household_head です。")
    if data.get("mode") not in MODES:
        problems.append("mode は application（申請）か push（プッシュ型）です。")
    sources = tuple(data.get("account_sources") or ())
    if not sources or any(s not in ACCOUNT_SOURCES for s in sources):
        problems.append("account_sources は public_funds・application から選びます。")
    if not data.get("reference"):
        problems.append("reference（根拠: 閣議決定・要綱・条例）は必須です。")
    if not data.get("name"):
        problems.append("name（名称）は必須です。")
    if problems:
        raise ProgrammeError(" ".join(problems))
    return ProgrammeDefinition(
        code=code,
        name=str(data["name"]),
        amount_per_person=int(amount),  # type: ignore[arg-type]
        reference_date=data["reference_date"],
        payee=str(data["payee"]),
        mode=str(data["mode"]),
        account_sources=sources,
        reference=str(data["reference"]),
        payer=dict(data.get("payer") or {}),
    )


@dataclass(frozen=True)
class HouseholdEntitlement:
    household_number: str
    head_atena_number: str  # the 受給権者 (世帯主 on the reference date)
    persons: int
    amount: int


def household_entitlements(
    members: Iterable[tuple[str, str, bool]], *, per_person: int, top_up_per_person: int = 0
) -> list[HouseholdEntitlement]:
    """One entitlement per household from (世帯番号, 宛名番号, 世帯主か) of everyone registered on the reference date.

    A household whose 世帯主 is not among them (a head registered elsewhere) is paid to its
    oldest-numbered member, as the 2020 要領 let the municipality decide; the list records who.
    """
    heads: dict[str, str] = {}
    first: dict[str, str] = {}
    counts: dict[str, int] = {}
    for household, atena, is_head in members:
        counts[household] = counts.get(household, 0) + 1
        if is_head:
            heads[household] = atena
        if household not in first or atena < first[household]:
            first[household] = atena
    each = per_person + top_up_per_person
    return [HouseholdEntitlement(h, heads.get(h, first[h]), n, n * each) for h, n in sorted(counts.items())]
