"""和暦: era boundaries, 元年, the two written forms, and round trips for every supported date."""

from __future__ import annotations

import itertools
from datetime import date, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from lgcloud.core.wareki import (
    ERAS,
    WarekiError,
    era_of,
    format_date,
    format_short,
    parse_compact,
    parse_date,
    to_wareki,
)

SUPPORTED = st.dates(min_value=date(1873, 1, 1), max_value=date(2200, 12, 31))


@pytest.mark.parametrize(
    ("day", "text"),
    [
        (date(2026, 11, 26), "令和8年11月26日"),
        (date(2019, 5, 1), "令和元年5月1日"),
        (date(2019, 4, 30), "平成31年4月30日"),
        (date(1989, 1, 8), "平成元年1月8日"),
        (date(1989, 1, 7), "昭和64年1月7日"),
        (date(1926, 12, 25), "昭和元年12月25日"),
        (date(1926, 12, 24), "大正15年12月24日"),
        (date(1912, 7, 30), "大正元年7月30日"),
        (date(1912, 7, 29), "明治45年7月29日"),
        (date(1873, 1, 1), "明治6年1月1日"),
    ],
)
def test_era_boundaries(day: date, text: str) -> None:
    assert format_date(day) == text
    assert parse_date(text) == day


def test_short_form() -> None:
    assert format_short(date(2026, 11, 26)) == "R8.11.26"
    assert format_short(date(2019, 5, 1)) == "R1.5.1"
    for text in ("R8.11.26", "r8.11.26", "R08.11.26", "R8/11/26", "R8-11-26", "Ｒ８．１１．２６", " R8.11.26 "):
        assert parse_date(text) == date(2026, 11, 26), text
    assert parse_date("H31.4.30") == date(2019, 4, 30)
    assert parse_date("S64.1.7") == date(1989, 1, 7)


def test_long_form_variants() -> None:
    assert parse_date("令和８年１１月２６日") == date(2026, 11, 26)
    assert parse_date("令和 8年 11月 26日") == date(2026, 11, 26)
    assert parse_date("令和1年5月1日") == date(2019, 5, 1)


@pytest.mark.parametrize(
    "text",
    [
        "平成31年5月1日",  # 令和 had begun
        "令和元年4月30日",  # 令和 had not begun
        "昭和64年1月8日",
        "大正元年7月29日",
        "明治5年12月31日",  # before the Gregorian calendar
        "令和0年1月1日",
        "令和8年2月30日",
        "令和8年13月1日",
        "R8.2.30",
        "X8.1.1",
        "2026-11-26",
        "令和八年十一月二十六日",
        "",
    ],
)
def test_invalid_text_is_refused_in_japanese(text: str) -> None:
    with pytest.raises(WarekiError) as exc:
        parse_date(text)
    assert exc.value.message
    assert not exc.value.message.isascii()


def test_dates_before_1873_are_refused() -> None:
    with pytest.raises(WarekiError):
        format_date(date(1872, 12, 31))


@given(SUPPORTED)
def test_round_trip_long(day: date) -> None:
    assert parse_date(format_date(day)) == day


@given(SUPPORTED)
def test_round_trip_short(day: date) -> None:
    assert parse_date(format_short(day)) == day


@given(SUPPORTED)
def test_the_era_is_the_one_in_force_and_the_year_counts_from_gannen(day: date) -> None:
    w = to_wareki(day)
    assert w.era.contains(day)
    assert w.year == day.year - w.era.first_year + 1 >= 1
    assert ("元年" in format_date(day)) == (w.year == 1)
    assert format_date(day).startswith(w.era.name)
    # The day before an era's first day belongs to the previous era.
    if day == w.era.start and w.era is not ERAS[0]:
        assert era_of(day - timedelta(days=1)) is ERAS[ERAS.index(w.era) - 1]


@given(SUPPORTED, SUPPORTED)
def test_wareki_order_is_date_order(a: date, b: date) -> None:
    wa, wb = to_wareki(a), to_wareki(b)
    key_a = (ERAS.index(wa.era), wa.year, wa.month, wa.day)
    key_b = (ERAS.index(wb.era), wb.year, wb.month, wb.day)
    assert (key_a < key_b) == (a < b)


def test_eras_tile_the_calendar() -> None:
    for previous, following in itertools.pairwise(ERAS):
        assert previous.end is not None
        assert following.start == previous.end + timedelta(days=1)
    assert ERAS[-1].end is None


@pytest.mark.parametrize(
    ("text", "day"),
    [
        ("H070401", date(1995, 4, 1)),
        ("4070401", date(1995, 4, 1)),
        ("R030521", date(2021, 5, 21)),
        ("5030521", date(2021, 5, 21)),
        ("r010501", date(2019, 5, 1)),
        ("3640107", date(1989, 1, 7)),
        ("Ｈ０７０４０１", date(1995, 4, 1)),
    ],
)
def test_compact_legacy_forms(text: str, day: date) -> None:
    assert parse_compact(text) == day


def test_compact_forms_refuse_what_is_not_a_date_of_that_era() -> None:
    for text in ("H310501", "4310501", "R000101", "H070230", "9070401", "H7041", "19950401"):
        with pytest.raises(WarekiError) as exc:
            parse_compact(text)
        assert not exc.value.message.isascii()
    # A vendor's own 元号コード table.
    assert parse_compact("H070401", {"7": "H"}) == date(1995, 4, 1)
    assert parse_compact("7070401", {"7": "H"}) == date(1995, 4, 1)


def test_the_three_legacy_written_forms_and_gannen() -> None:
    assert parse_date("H07.04.01") == date(1995, 4, 1)
    assert parse_date("平成7年4月1日") == date(1995, 4, 1)
    assert parse_date("R3.5.21") == date(2021, 5, 21)
    assert parse_date("平成元年1月8日") == date(1989, 1, 8)
    assert parse_date("H元.1.8") == date(1989, 1, 8)
