from __future__ import annotations

from collections.abc import Iterator
from datetime import date

import pytest

from lgcloud.core.permissions import Role
from lgcloud.core.tenancy import TenantContext
from lgcloud.registry.actions import ChangeResult, register_move_in
from tests.registry.conftest import person

CHIYODA = "131016"
SHINJUKU = "131041"


def clerk_of(lg_code: str, name: str = "住記 太郎") -> TenantContext:
    return TenantContext(
        lg_code=lg_code, actor_id=1, actor_name=name, roles=frozenset({Role.REGISTRY_CLERK}), purpose="test"
    )


@pytest.fixture
def clerk(tokyo: list[str]) -> TenantContext:
    return clerk_of(CHIYODA)


@pytest.fixture
def admin(tokyo: list[str]) -> TenantContext:
    return TenantContext(
        lg_code=CHIYODA, actor_id=2, actor_name="管理 花子", roles=frozenset({Role.MUNICIPAL_ADMIN}), purpose="test"
    )


def move_in_family(ctx: TenantContext) -> ChangeResult:
    return register_move_in(
        ctx,
        persons=[
            person(),
            person(given="花子", kana=("ヤマダ", "ハナコ"), birth=date(1982, 5, 5), sex="2", relationship="wife"),
        ],
        address="東京都千代田区霞が関一丁目1番1号",
        effective_date=date(2024, 4, 1),
        filed_on=date(2024, 4, 5),
        previous_address="大阪府大阪市北区梅田一丁目1番1号",
    )


@pytest.fixture
def family(clerk: TenantContext) -> ChangeResult:
    return move_in_family(clerk)


@pytest.fixture
def own_consumers() -> Iterator[list[str]]:
    """Names of consumers a test registers; unregistered afterwards."""
    from lgcloud.linkage.consumers import unregister

    names: list[str] = []
    yield names
    for name in names:
        unregister(name)
