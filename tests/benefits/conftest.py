from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest
import yaml

from lgcloud.benefits import actions
from lgcloud.core.permissions import Role
from lgcloud.core.tenancy import TenantContext
from lgcloud.registry.actions import register_move_in

from ..registry.conftest import person

CHIYODA = "131016"
PROGRAMMES = Path(__file__).resolve().parents[2] / "src" / "lgcloud" / "benefits" / "programmes"


@pytest.fixture
def welfare(tokyo: list[str]) -> TenantContext:
    return TenantContext(CHIYODA, 9, "福祉 花子", frozenset({Role.WELFARE_CLERK}), "test")


@pytest.fixture
def registry_clerk(tokyo: list[str]) -> TenantContext:
    return TenantContext(CHIYODA, 1, "住記 太郎", frozenset({Role.REGISTRY_CLERK}), "test")


def move_in(ctx: TenantContext, people: list, on: date, address: str = "東京都千代田区霞が関一丁目1番1号") -> list[str]:  # type: ignore[type-arg]
    return list(
        register_move_in(
            ctx,
            persons=people,
            address=address,
            effective_date=on,
            filed_on=on,
            previous_address="大阪府大阪市北区梅田一丁目1番1号",
        ).atena_numbers
    )


def programme_file(name: str, **changes: object) -> tuple[dict[str, object], bytes]:
    raw = (PROGRAMMES / name).read_bytes()
    data = yaml.safe_load(raw)
    data.update(changes)
    return data, raw + repr(sorted(changes.items())).encode()


def load(ctx: TenantContext, name: str, **changes: object):  # type: ignore[no-untyped-def]
    data, raw = programme_file(name, **changes)
    return actions.load_programme(ctx, data, source=raw)


@pytest.fixture
def households(registry_clerk: TenantContext) -> dict[str, list[str]]:
    """Three households on 2026-06-01 (4 + 1 + 2 persons) and one that moved in after it."""
    four = move_in(
        registry_clerk,
        [
            person(),
            person(given="花子", kana=("ヤマダ", "ハナコ"), birth=date(1982, 5, 5), sex="2", relationship="wife"),
            person(given="一郎", kana=("ヤマダ", "イチロウ"), birth=date(2012, 6, 6), relationship="child"),
            person(given="次郎", kana=("ヤマダ", "ジロウ"), birth=date(2015, 7, 7), relationship="child"),
        ],
        date(2024, 4, 1),
    )
    one = move_in(
        registry_clerk,
        [person("佐藤", "一", kana=("サトウ", "ハジメ"), birth=date(1950, 1, 1))],
        date(2025, 1, 1),
        "東京都千代田区丸の内一丁目1番1号",
    )
    two = move_in(
        registry_clerk,
        [
            person("鈴木", "三郎", kana=("スズキ", "サブロウ"), birth=date(1970, 3, 3)),
            person("鈴木", "桜", kana=("スズキ", "サクラ"), birth=date(1972, 4, 4), sex="2", relationship="wife"),
        ],
        date(2025, 2, 1),
        "東京都千代田区丸の内二丁目1番1号",
    )
    late = move_in(
        registry_clerk,
        [person("田中", "四郎", kana=("タナカ", "シロウ"), birth=date(1990, 1, 1))],
        date(2026, 7, 1),
        "東京都千代田区丸の内三丁目1番1号",
    )
    return {"four": four, "one": one, "two": two, "late": late}
