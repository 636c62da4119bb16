from __future__ import annotations

from datetime import date

import pytest

from lgcloud.core.permissions import Role
from lgcloud.core.tenancy import TenantContext
from lgcloud.registry.actions import register_move_in

from ..registry.conftest import person

CHIYODA = "131016"


@pytest.fixture
def tax_clerk(tokyo: list[str]) -> TenantContext:
    return TenantContext(CHIYODA, 7, "税務 次郎", frozenset({Role.TAX_CLERK}), "test")


@pytest.fixture
def town(tokyo: list[str]) -> dict[str, str]:
    registry = TenantContext(CHIYODA, 1, "住記 太郎", frozenset({Role.REGISTRY_CLERK}), "test")
    family = register_move_in(
        registry,
        persons=[
            person(),
            person(given="花子", kana=("ヤマダ", "ハナコ"), birth=date(1982, 5, 5), sex="2", relationship="wife"),
        ],
        address="東京都千代田区霞が関一丁目1番1号",
        effective_date=date(2024, 4, 1),
        filed_on=date(2024, 4, 5),
        previous_address="大阪府大阪市北区梅田一丁目1番1号",
    )
    late = register_move_in(
        registry,
        persons=[person("佐藤", "次郎", kana=("サトウ", "ジロウ"), birth=date(1990, 1, 1))],
        address="東京都千代田区丸の内一丁目1番1号",
        effective_date=date(2026, 2, 1),  # after the 賦課期日 of 令和8年度
        filed_on=date(2026, 2, 1),
        previous_address="大阪府大阪市北区梅田二丁目1番1号",
    )
    head, wife = family.atena_numbers
    return {"head": head, "wife": wife, "late": late.atena_numbers[0]}
