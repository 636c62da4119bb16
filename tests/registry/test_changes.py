"""異動: history, as_of, the rules, and names kept exactly as entered."""

from __future__ import annotations

from datetime import date

import pytest
from django.core.exceptions import ValidationError
from django.db import connection

from lgcloud.core.tenancy import TenantContext
from lgcloud.registry import actions, queries
from lgcloud.registry.models import Change, Person, PersonVersion
from tests.registry.conftest import person

pytestmark = pytest.mark.django_db

TODAY = date(2026, 11, 26)


def test_move_in_creates_a_household_with_history(clerk: TenantContext, family) -> None:  # type: ignore[no-untyped-def]
    head, wife, child = family.atena_numbers
    rec = queries.get_record(clerk, head)
    assert (rec.full_name, rec.is_household_head, rec.relationship) == ("山田　太郎", True, "head")
    assert rec.previous_address == "大阪府大阪市北区梅田一丁目1番1号"
    assert rec.resident_since == date(2024, 4, 1)
    assert len(rec.resident_code) == 11
    members = queries.get_household(clerk, rec.household_number, today=TODAY)
    assert [m.atena_number for m in members] == [head, wife, child]
    history = queries.get_history(clerk, wife)
    assert [h.change_type for h in history] == ["move_in"]
    assert not family.late_filing


def test_as_of_answers_for_every_date(clerk: TenantContext, family) -> None:  # type: ignore[no-untyped-def]
    head = family.atena_numbers[0]
    actions.register_address_change(
        clerk,
        atena_numbers=family.atena_numbers,
        address="東京都千代田区丸の内二丁目2番2号",
        effective_date=date(2025, 1, 10),
        filed_on=date(2025, 1, 12),
    )
    assert queries.get_record_as_of(clerk, head, date(2024, 3, 31)) is None
    assert queries.get_record_as_of(clerk, head, date(2024, 12, 31)).address == "東京都千代田区霞が関一丁目1番1号"
    later = queries.get_record_as_of(clerk, head, date(2025, 1, 10))
    assert later.address == "東京都千代田区丸の内二丁目2番2号"
    assert later.pre_move_address == "東京都千代田区霞が関一丁目1番1号"
    assert later.address_since == date(2025, 1, 10)


def test_a_correction_is_a_new_record_and_fixes_every_date(clerk: TenantContext, family) -> None:  # type: ignore[no-untyped-def]
    head = family.atena_numbers[0]
    actions.register_address_change(
        clerk,
        atena_numbers=family.atena_numbers,
        address="東京都千代田区丸の内二丁目2番2号",
        effective_date=date(2025, 1, 10),
        filed_on=date(2025, 1, 12),
    )
    before = PersonVersion.objects.count()
    result = actions.correct_record(
        clerk,
        atena_number=head,
        corrects_change=family.change_number,
        changes={"given_name": "太朗"},
        reason="届書の誤記",
    )
    change = Change.objects.get(change_number=result.change_number)
    assert change.corrects.change_number == family.change_number
    assert PersonVersion.objects.count() > before  # nothing was overwritten
    assert queries.get_record_as_of(clerk, head, date(2024, 6, 1)).given_name == "太朗"
    now = queries.get_record_as_of(clerk, head, date(2025, 6, 1))
    assert (now.given_name, now.address) == ("太朗", "東京都千代田区丸の内二丁目2番2号")
    assert queries.get_record(clerk, head).given_name == "太朗"


def test_history_rows_cannot_be_edited_on_any_engine(clerk: TenantContext, family) -> None:  # type: ignore[no-untyped-def]
    # On SQLite this is a convention of the code; on PostgreSQL the app role lacks UPDATE (tests/postgres).
    from lgcloud.core.postgres import APPEND_ONLY_TABLES

    assert {"registry_change", "registry_personversion"} <= APPEND_ONLY_TABLES


def test_the_head_cannot_leave_without_a_successor(clerk: TenantContext, family) -> None:  # type: ignore[no-untyped-def]
    head, wife, _ = family.atena_numbers
    with pytest.raises(ValidationError) as exc:
        actions.register_death(clerk, atena_number=head, effective_date=date(2026, 1, 1), filed_on=date(2026, 1, 2))
    assert "世帯主がいなくなります" in str(exc.value)
    assert queries.get_record(clerk, head).status == "resident"  # nothing written
    result = actions.register_death(
        clerk, atena_number=head, effective_date=date(2026, 1, 1), filed_on=date(2026, 1, 2), new_head=wife
    )
    assert queries.get_record(clerk, head).status == "removed"
    assert queries.get_record(clerk, wife).is_household_head
    assert result.change_type == "death"


def test_no_change_on_a_removed_person_except_restoration(clerk: TenantContext, family) -> None:  # type: ignore[no-untyped-def]
    child = family.atena_numbers[2]
    actions.remove_ex_officio(clerk, atena_number=child, effective_date=date(2026, 2, 1), reason="居住実態なし")
    with pytest.raises(ValidationError, match="除票のため異動できません"):
        actions.register_name_change(
            clerk,
            atena_number=child,
            family_name="鈴木",
            given_name="一郎",
            family_name_kana="スズキ",
            given_name_kana="イチロウ",
            effective_date=date(2026, 3, 1),
            filed_on=date(2026, 3, 1),
        )
    actions.restore_ex_officio(clerk, atena_number=child, effective_date=date(2026, 3, 1), reason="誤って消除")
    assert queries.get_record(clerk, child).status == "resident"


def test_dates_must_be_in_order(clerk: TenantContext, family) -> None:  # type: ignore[no-untyped-def]
    head = family.atena_numbers[0]
    with pytest.raises(ValidationError, match="届出日は異動日以降"):
        actions.register_address_change(
            clerk,
            atena_numbers=family.atena_numbers,
            address="東京都千代田区1",
            effective_date=date(2025, 5, 10),
            filed_on=date(2025, 5, 1),
        )
    with pytest.raises(ValidationError, match="生年月日より前"):
        actions.register_move_in(
            clerk,
            persons=[person(birth=date(2025, 1, 1))],
            address="東京都千代田区2",
            effective_date=date(2024, 12, 1),
            filed_on=date(2024, 12, 2),
            previous_address="x",
        )
    # 転出予定 is filed before the move.
    actions.register_move_out(
        clerk,
        atena_numbers=family.atena_numbers,
        planned_date=date(2026, 12, 20),
        filed_on=date(2026, 11, 1),
        destination="神奈川県横浜市西区1",
    )
    assert queries.get_record(clerk, head).status == "moving_out"


def test_a_late_filing_is_flagged_and_listed(clerk: TenantContext, family) -> None:  # type: ignore[no-untyped-def]
    result = actions.register_address_change(
        clerk,
        atena_numbers=family.atena_numbers,
        address="東京都千代田区3",
        effective_date=date(2025, 3, 1),
        filed_on=date(2025, 3, 16),
    )
    assert result.late_filing
    assert any("14日" in w for w in result.warnings)
    listed = queries.late_filings(clerk, date(2025, 1, 1), date(2025, 12, 31))
    assert [c.change_number for c in listed] == [result.change_number]
    on_time = actions.register_address_change(
        clerk,
        atena_numbers=family.atena_numbers,
        address="東京都千代田区4",
        effective_date=date(2025, 4, 1),
        filed_on=date(2025, 4, 15),
    )
    assert not on_time.late_filing


def test_likely_duplicates_are_warned(clerk: TenantContext, family) -> None:  # type: ignore[no-untyped-def]
    twin = person()
    with pytest.raises(actions.PossibleDuplicate, match="同じ氏名・生年月日・住所"):
        actions.register_move_in(
            clerk,
            persons=[twin],
            address="東京都千代田区霞が関一丁目1番1号",
            effective_date=date(2025, 1, 1),
            filed_on=date(2025, 1, 1),
            previous_address="x",
        )
    result = actions.register_move_in(
        clerk,
        persons=[twin],
        address="東京都千代田区霞が関一丁目1番1号",
        effective_date=date(2025, 1, 1),
        filed_on=date(2025, 1, 1),
        previous_address="x",
        confirm_duplicates=True,
    )
    assert result.warnings


NAMES = ["髙橋", "山﨑", "𠮷田", "葛\U000e0100飾"]


@pytest.mark.parametrize("family_name", NAMES)
def test_names_are_stored_exactly_as_entered(clerk: TenantContext, family_name: str) -> None:
    result = actions.register_move_in(
        clerk,
        persons=[person(family_name, kana=("ﾀｶﾊｼ", "ﾀﾛｳ"))],
        address="東京都千代田区5",
        effective_date=date(2025, 1, 1),
        filed_on=date(2025, 1, 1),
        previous_address="x",
    )
    atena = result.atena_numbers[0]
    assert queries.get_record(clerk, atena).family_name == family_name
    assert queries.get_history(clerk, atena)[0].record.family_name == family_name
    with connection.cursor() as cursor:
        cursor.execute("SELECT family_name FROM registry_person WHERE atena_number = %s", [atena])
        assert cursor.fetchone()[0] == family_name
    # Readings are stored as full-width katakana.
    assert queries.get_record(clerk, atena).family_name_kana == "タカハシ"


def test_search_folds_variants_and_kana_width(clerk: TenantContext) -> None:
    for name in NAMES:
        actions.register_move_in(
            clerk,
            persons=[person(name, kana=("ヤマザキ", "タロウ"))],
            address="東京都千代田区6",
            effective_date=date(2025, 1, 1),
            filed_on=date(2025, 1, 1),
            previous_address="x",
        )

    def hits(**q: object) -> list[str]:
        return [r.full_name for r in queries.search_persons(clerk, queries.SearchQuery(**q), today=TODAY).results]  # type: ignore[arg-type]

    assert hits(name="高橋") == ["髙橋　太郎"]
    assert hits(name="山崎") == ["山﨑　太郎"]
    assert hits(name="吉田") == ["𠮷田　太郎"]
    assert hits(name="葛飾") == ["葛\U000e0100飾　太郎"]
    assert len(hits(kana="ﾔﾏｻﾞｷ")) == 4
    assert len(hits(kana="やまざき")) == 4


def test_individual_numbers_are_encrypted_and_validated(clerk: TenantContext, family) -> None:  # type: ignore[no-untyped-def]
    head = family.atena_numbers[0]
    with pytest.raises(ValidationError, match="検査用数字"):
        actions.set_individual_number(clerk, atena_number=head, individual_number="621498320258")
    actions.set_individual_number(clerk, atena_number=head, individual_number="621498320257")
    stored = bytes(Person.objects.get(atena_number=head).individual_number_ciphertext)
    assert b"621498320257" not in stored
    assert queries.reveal_individual_number(clerk, head, "個人住民税の賦課") == "621498320257"
    # Bound to its municipality: the ciphertext does not open elsewhere.
    other = TenantContext(lg_code="131041", actor_id=1, actor_name="x", roles=clerk.roles, purpose="test")
    from lgcloud.core import crypto

    with pytest.raises(Exception):  # noqa: B017  (cryptography's InvalidTag)
        crypto.decrypt(other, stored, b"individual_number")
