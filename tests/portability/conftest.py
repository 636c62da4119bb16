"""A register with every kind of 異動, odd names and odd text, to carry through the standard layout."""

from __future__ import annotations

from datetime import date

import pytest

from lgcloud.core.permissions import Role
from lgcloud.core.tenancy import TenantContext
from lgcloud.registry import actions
from lgcloud.registry.actions import Adversary, NewPerson
from lgcloud.registry.bulk import load_households
from lgcloud.registry.generator import generate_town
from lgcloud.registry.rules.record import ForeignResidentItems

CHIYODA = "131016"
SHINJUKU = "131041"
MINATO = "131032"
TODAY = date(2026, 11, 20)


def clerk_of(lg_code: str) -> TenantContext:
    return TenantContext(
        lg_code=lg_code, actor_id=7, actor_name="住記 花子", roles=frozenset({Role.REGISTRY_CLERK}), purpose="test"
    )


def new(family: str, given: str, kana: tuple[str, str], birth: date, sex: str, rel: str, **extra: object) -> NewPerson:
    return NewPerson(
        family_name=family,
        given_name=given,
        family_name_kana=kana[0],
        given_name_kana=kana[1],
        birth_date=birth,
        sex=sex,
        relationship=rel,
        **extra,  # type: ignore[arg-type]
    )


def build_register(lg_code: str) -> None:
    """A small generated town (bulk path) plus one of every 異動 through the actions."""
    ctx = clerk_of(lg_code)
    load_households(
        TenantContext.system(lg_code, purpose="test"),
        generate_town(lg_code, 60, seed=3, as_of=TODAY, history=True, foreign_rate=0.1, individual_number_rate=0.1),
        today=TODAY,
    )
    family = actions.register_move_in(
        ctx,
        persons=[
            new("山﨑", "朗", ("ﾔﾏｻﾞｷ", "ｱｷﾗ"), date(1970, 1, 2), "1", "head", individual_number="123456789018"),
            new("山﨑", "𠮷子", ("ヤマザキ", "ヨシコ"), date(1972, 3, 4), "2", "wife", former_family_name="髙橋"),
            new("葛\U000e0100西", "一郎", ("カサイ", "イチロウ"), date(2001, 5, 6), "1", "child"),
        ],
        address="東京都千代田区千代田1番1号",
        address_detail="皇居前ハイツ101",
        effective_date=date(2026, 4, 1),
        filed_on=date(2026, 4, 20),  # late filing
        previous_address="大阪府大阪市北区梅田1丁目",
    )
    head, wife, son = family.atena_numbers
    abroad = actions.register_move_in(
        ctx,
        persons=[
            new(
                "NGUYEN",
                "VAN AN",
                ("グエン", "ヴァンアン"),
                date(1995, 7, 8),
                "1",
                "head",
                alias="阮文安",
                is_foreign=True,
                foreign=ForeignResidentItems(
                    nationality="ベトナム",
                    residence_status="技術・人文知識・国際業務",
                    period_of_stay="5年",
                    stay_expires_on=date(2029, 3, 31),
                    residence_card_number="AB12345678CD",
                    category="medium_long_term",
                ),
            )
        ],
        address="東京都千代田区神田1丁目2番3号",
        effective_date=date(2026, 5, 1),
        filed_on=date(2026, 5, 2),
        previous_address="",
        origin="abroad",
        reason='入国後の転入, 在留カード確認済み\n"原本"確認',
    )
    baby = actions.register_birth(
        ctx,
        household_number=family.household_numbers[0],
        person=new("山﨑", "葵", ("ヤマザキ", "アオイ"), date(2026, 6, 1), "2", "child"),
        filed_on=date(2026, 6, 5),
    )
    actions.register_address_change(
        ctx,
        atena_numbers=[son],
        address="東京都千代田区九段南1丁目2番1号",
        effective_date=date(2026, 7, 1),
        filed_on=date(2026, 7, 3),
        new_household_head=son,
    )
    moved = actions.register_name_change(
        ctx,
        atena_number=wife,
        family_name="佐藤",
        given_name="𠮷子",
        family_name_kana="サトウ",
        given_name_kana="ヨシコ",
        effective_date=date(2026, 7, 10),
        filed_on=date(2026, 7, 10),
        keep_former_family_name=True,
    )
    actions.correct_record(
        ctx,
        atena_number=wife,
        corrects_change=moved.change_number,
        changes={"given_name_kana": "ヨシ"},
        reason="カナの誤記を訂正",
    )
    actions.register_move_out(
        ctx,
        atena_numbers=abroad.atena_numbers,
        planned_date=date(2026, 9, 30),
        filed_on=date(2026, 9, 1),
        destination="大阪府大阪市中央区本町1丁目",
        destination_lg_code="271284",
    )
    actions.confirm_move_out(
        ctx, atena_numbers=abroad.atena_numbers, effective_date=date(2026, 9, 30), notified_on=date(2026, 10, 5)
    )
    actions.remove_ex_officio(
        ctx, atena_number=baby.atena_numbers[0], effective_date=date(2026, 10, 1), reason="実態調査"
    )
    actions.restore_ex_officio(
        ctx,
        atena_number=baby.atena_numbers[0],
        effective_date=date(2026, 10, 15),
        reason="消除の誤り",
        relationship="child",
    )
    actions.set_individual_number(ctx, atena_number=wife, individual_number="000000000019")
    actions.register_move_in(  # a 転入 that came through the once-only transfer (linkage)
        ctx,
        persons=[new("転入", "連携", ("テンニュウ", "レンケイ"), date(1990, 1, 1), "1", "head")],
        address="東京都千代田区麹町1番地",
        effective_date=date(2026, 10, 20),
        filed_on=date(2026, 10, 21),
        previous_address="東京都新宿区西新宿2丁目8番1号",
        transfer_id="6f1c1c1e-8f2a-4c55-9d51-1f0a2b3c4d5e",
    )
    actions.register_move_in(  # 職権記載
        ctx,
        persons=[new("職権", "記載", ("ショッケン", "キサイ"), date(1950, 2, 2), "2", "head")],
        address="東京都千代田区永田町1丁目",
        effective_date=date(2026, 10, 22),
        filed_on=None,
        previous_address="",
        ex_officio=True,
        reason="実態調査により記載",
    )
    actions.set_protection(
        ctx,
        atena_number=wife,
        starts_on=date(2026, 8, 1),
        adversary=Adversary("加害 太郎", date(1960, 1, 1)),
        co_residents=[head],
        reason="DV, 警察相談済",
    )


@pytest.fixture
def register(tokyo: list[str]) -> str:
    build_register(CHIYODA)
    return CHIYODA
