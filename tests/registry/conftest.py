from __future__ import annotations

from datetime import date

import pytest

from lgcloud.core.permissions import Role
from lgcloud.core.tenancy import TenantContext
from lgcloud.registry.actions import NewPerson, register_move_in

CHIYODA = "131016"


@pytest.fixture
def clerk(tokyo: list[str]) -> TenantContext:
    return TenantContext(
        lg_code=CHIYODA, actor_id=1, actor_name="住記 太郎", roles=frozenset({Role.REGISTRY_CLERK}), purpose="test"
    )


def person(
    family: str = "山田",
    given: str = "太郎",
    *,
    kana: tuple[str, str] = ("ヤマダ", "タロウ"),
    birth: date = date(1980, 4, 1),
    sex: str = "1",
    relationship: str = "head",
    **extra: object,
) -> NewPerson:
    return NewPerson(
        family_name=family,
        given_name=given,
        family_name_kana=kana[0],
        given_name_kana=kana[1],
        birth_date=birth,
        sex=sex,
        relationship=relationship,
        **extra,
    )  # type: ignore[arg-type]


@pytest.fixture
def family(clerk: TenantContext):  # type: ignore[no-untyped-def]
    """A household of three that moved in on 2024-04-01."""
    return register_move_in(
        clerk,
        persons=[
            person(),
            person(given="花子", kana=("ヤマダ", "ハナコ"), birth=date(1982, 5, 5), sex="2", relationship="wife"),
            person(given="一郎", kana=("ヤマダ", "イチロウ"), birth=date(2012, 6, 6), relationship="child"),
        ],
        address="東京都千代田区霞が関一丁目1番1号",
        effective_date=date(2024, 4, 1),
        filed_on=date(2024, 4, 5),
        previous_address="大阪府大阪市北区梅田一丁目1番1号",
    )
