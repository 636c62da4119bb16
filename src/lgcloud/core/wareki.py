"""和暦 (Japanese era dates) for display and input: 明治・大正・昭和・平成・令和.

Pure: no Django, no clock. Business dates are stored as :class:`datetime.date`;
和暦 is only how they are shown and typed (DESIGN.md, "Time").

Era boundaries are the days the new era began (元号法 and the 改元 政令):

=====  ==========  ==========  ==========================================
元号    略号         first day   source
=====  ==========  ==========  ==========================================
明治    M           1873-01-01  太陽暦採用 (明治5年太政官布告第337号): 明治6年1月1日.
                                Earlier 明治 dates were lunisolar (旧暦) and are not
                                supported: converting them needs a calendar table.
大正    T           1912-07-30  明治45年7月29日 was the last day of 明治.
昭和    S           1926-12-25
平成    H           1989-01-08  元号を改める政令 (昭和64年政令第1号)
令和    R           2019-05-01  元号を改める政令 (平成31年政令第143号)
=====  ==========  ==========  ==========================================

The first year of an era is written 元年 (「令和元年5月1日」). A date is always
written in the era in force on that day: 「平成31年5月1日」 does not exist.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date

__all__ = [
    "ERAS",
    "Era",
    "WarekiDate",
    "WarekiError",
    "era_of",
    "format_date",
    "format_short",
    "parse_compact",
    "parse_date",
    "to_wareki",
]


class WarekiError(ValueError):
    """A date outside the supported range, or text that is not a valid 和暦 date.

    ``message`` is Japanese and safe to show beside a form field.
    """

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


@dataclass(frozen=True)
class Era:
    name: str  # 元号
    abbreviation: str  # 略号 (M/T/S/H/R)
    first_year: int  # the Gregorian year of 元年
    start: date  # the first day supported in this era
    end: date | None  # the last day, None for the current era

    def contains(self, day: date) -> bool:
        return self.start <= day and (self.end is None or day <= self.end)


ERAS: tuple[Era, ...] = (
    # 明治元年 is 1868, but only dates from the Gregorian calendar's adoption are supported.
    Era("明治", "M", 1868, date(1873, 1, 1), date(1912, 7, 29)),
    Era("大正", "T", 1912, date(1912, 7, 30), date(1926, 12, 24)),
    Era("昭和", "S", 1926, date(1926, 12, 25), date(1989, 1, 7)),
    Era("平成", "H", 1989, date(1989, 1, 8), date(2019, 4, 30)),
    Era("令和", "R", 2019, date(2019, 5, 1), None),
)
_BY_NAME = {e.name: e for e in ERAS}
_BY_ABBREVIATION = {e.abbreviation: e for e in ERAS}


@dataclass(frozen=True)
class WarekiDate:
    era: Era
    year: int  # 1 is 元年
    month: int
    day: int

    @property
    def year_label(self) -> str:
        return "元" if self.year == 1 else str(self.year)

    def __str__(self) -> str:
        return f"{self.era.name}{self.year_label}年{self.month}月{self.day}日"

    def short(self) -> str:
        return f"{self.era.abbreviation}{self.year}.{self.month}.{self.day}"

    def to_date(self) -> date:
        return date(self.era.first_year + self.year - 1, self.month, self.day)


def era_of(day: date) -> Era:
    """The era in force on ``day``."""
    for era in reversed(ERAS):
        if day >= era.start:
            return era
    raise WarekiError("明治6年（1873年）1月1日より前の日付は和暦に変換できません。")


def to_wareki(day: date) -> WarekiDate:
    era = era_of(day)
    return WarekiDate(era, day.year - era.first_year + 1, day.month, day.day)


def format_date(day: date) -> str:
    """「令和8年11月26日」, 「令和元年5月1日」."""
    return str(to_wareki(day))


def format_short(day: date) -> str:
    """「R8.11.26」: the abbreviated form used in narrow table cells."""
    return to_wareki(day).short()


_FULL_WIDTH = str.maketrans(
    "０１２３４５６７８９ＭＴＳＨＲｍｔｓｈｒ．／－　",
    "0123456789MTSHRmtshr./- ",
)
_LONG = re.compile(
    r"(?P<era>明治|大正|昭和|平成|令和)(?P<year>元|[0-9]{1,3})年(?P<month>[0-9]{1,2})月(?P<day>[0-9]{1,2})日"
)
_SHORT = re.compile(r"(?P<era>[MTSHR])(?P<year>元|[0-9]{1,3})[./-](?P<month>[0-9]{1,2})[./-](?P<day>[0-9]{1,2})")


def parse_date(text: str) -> date:
    """Read 「令和8年11月26日」, 「令和元年5月1日」 or 「R8.11.26」 (also R08/11/26, full-width digits).

    Raises :class:`WarekiError` for text that is not a date of the era it names.
    """
    cleaned = "".join(text.translate(_FULL_WIDTH).split()).upper()
    # Upper-casing leaves the kanji alone; the long form's 元号 are matched as written.
    match = _LONG.fullmatch(cleaned) or _SHORT.fullmatch(cleaned)
    if match is None:
        raise WarekiError("和暦の日付は「令和8年11月26日」または「R8.11.26」の形で入力してください。")
    era = _BY_NAME.get(match["era"]) or _BY_ABBREVIATION[match["era"]]
    year = 1 if match["year"] == "元" else int(match["year"])
    if year < 1:
        raise WarekiError("和暦の年は元年（1年）からです。")
    try:
        day = WarekiDate(era, year, int(match["month"]), int(match["day"])).to_date()
    except ValueError:
        raise WarekiError("存在しない日付です。") from None
    if not era.contains(day):
        if day < ERAS[0].start:
            raise WarekiError("明治6年（1873年）1月1日より前の日付は扱えません。")
        raise WarekiError(
            f"{era.name}{'元' if year == 1 else year}年{day.month}月{day.day}日は{era.name}の期間外です。"
        )
    return day


# 元号コード of legacy registry systems (the digit before YYMMDD in 「4070401」): 1 明治 … 5 令和.
ERA_DIGITS: dict[str, str] = {"1": "M", "2": "T", "3": "S", "4": "H", "5": "R"}
_COMPACT = re.compile(r"(?P<era>[MTSHR0-9])(?P<year>[0-9]{2})(?P<month>[0-9]{2})(?P<day>[0-9]{2})")


def parse_compact(text: str, era_digits: dict[str, str] | None = None) -> date:
    """Read the compact forms legacy systems store: 「H070401」 (略号 + YYMMDD) or 「4070401」 (元号コード + YYMMDD).

    ``era_digits`` maps a 元号コード to its 略号 (default :data:`ERA_DIGITS`: 1 明治 … 5 令和).
    Raises :class:`WarekiError` like :func:`parse_date`.
    """
    codes = ERA_DIGITS if era_digits is None else era_digits
    cleaned = "".join(text.translate(_FULL_WIDTH).split()).upper()
    match = _COMPACT.fullmatch(cleaned)
    letter = match["era"] if match is not None else ""
    if letter.isdigit():
        letter = codes.get(letter, "")
    if match is None or letter not in _BY_ABBREVIATION:
        raise WarekiError("和暦の日付は「H070401」（略号＋年月日6桁）または「4070401」（元号コード＋6桁）の形です。")
    era = _BY_ABBREVIATION[letter]
    year = int(match["year"])
    if year < 1:
        raise WarekiError("和暦の年は元年（1年）からです。")
    try:
        day = WarekiDate(era, year, int(match["month"]), int(match["day"])).to_date()
    except ValueError:
        raise WarekiError("存在しない日付です。") from None
    if not era.contains(day):
        label = "元" if year == 1 else str(year)
        raise WarekiError(f"{era.name}{label}年{day.month}月{day.day}日は{era.name}の期間外です。")
    return day
