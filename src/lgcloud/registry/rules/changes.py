"""Rules every 異動 must satisfy (住民基本台帳法, 住民記録システム標準仕様書). Pure functions.

Each rule returns problems as (field, Japanese message); the action refuses
the whole 異動 if there is any, so nothing is half-written.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date

from .record import ResidentRecord, fold_address, fold_name

# 住基法 22〜25条: a 届出 is due within 14 days of the 異動.
FILING_DEADLINE_DAYS = 14

RESTORATION = "ex_officio_restoration"
MOVE_OUT_PLANNED = "move_out_planned"


@dataclass(frozen=True)
class Problem:
    field: str
    message: str


def check_not_removed(change_type: str, before: Mapping[str, ResidentRecord | None]) -> list[Problem]:
    """No 異動 on a 除票 person, except a 職権 restoration."""
    problems = []
    for atena, record in before.items():
        if record is None:
            continue
        if record.status == "removed" and change_type != RESTORATION:
            problems.append(
                Problem("atena_number", f"宛名番号 {atena} は除票のため異動できません（職権回復のみ可能です）。")
            )
        if change_type == RESTORATION and record.status != "removed":
            problems.append(Problem("atena_number", f"宛名番号 {atena} は除票ではないため回復できません。"))
    return problems


def check_dates(
    change_type: str, effective_date: date, filed_on: date | None, records: Iterable[ResidentRecord], *, today: date
) -> list[Problem]:
    problems = []
    for record in records:
        if record.birth_date > effective_date:
            problems.append(
                Problem("effective_date", f"異動日（{effective_date}）が {record.full_name} の生年月日より前です。")
            )
    if filed_on is not None:
        if filed_on > today:
            problems.append(Problem("filed_on", "届出日に未来の日付は指定できません。"))
        if change_type != MOVE_OUT_PLANNED and filed_on < effective_date:
            problems.append(Problem("filed_on", "届出日は異動日以降の日付にしてください（転出予定の届出を除く）。"))
    if change_type != MOVE_OUT_PLANNED and effective_date > today:
        problems.append(Problem("effective_date", "異動日に未来の日付は指定できません（転出予定を除く）。"))
    return problems


def is_late_filing(effective_date: date, filed_on: date | None) -> bool:
    """A 届出 more than 14 days after the 異動 (住基法22〜25条); listed for follow-up (第52条の過料)."""
    return filed_on is not None and (filed_on - effective_date).days > FILING_DEADLINE_DAYS


def check_households(members_after: Mapping[str, list[ResidentRecord]]) -> list[Problem]:
    """Exactly one 世帯主 in every household that still has members, at all times."""
    problems = []
    for number, members in members_after.items():
        active = [m for m in members if m.is_active]
        if not active:
            continue  # the household is dissolved
        heads = [m for m in active if m.is_household_head]
        if len(heads) == 0:
            problems.append(
                Problem("household_head", f"世帯 {number} に世帯主がいなくなります。新しい世帯主を指定してください。")
            )
        elif len(heads) > 1:
            names = "、".join(h.full_name for h in heads)
            problems.append(Problem("household_head", f"世帯 {number} の世帯主が複数になります（{names}）。"))
        for m in active:
            if m.is_household_head != (m.relationship == "head"):
                problems.append(Problem("relationship", f"{m.full_name} の続柄と世帯主の指定が一致しません。"))
    return problems


def duplicate_key(record: ResidentRecord) -> tuple[str, date, str]:
    """Likely the same person: same folded name, birth date and address."""
    return (fold_name(record.family_name + record.given_name), record.birth_date, fold_address(record.address))
