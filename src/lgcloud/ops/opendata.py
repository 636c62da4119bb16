"""Open data for EBPM: the 住民基本台帳 aggregates of a municipality, suppressed, as published tables.

The counts come from the app that implements 住民基本台帳 (its manifest's ``opendata``); this
module turns them into three tables, suppresses small cells (ops.rules.disclosure, keeping
the previous release's suppressed cells), and writes them as CSV and JSON with the data
dictionary and the licence notice (docs/opendata.md).
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from functools import cache
from pathlib import Path
from typing import Any

from django.http import Http404

from lgcloud.contract import OpenDataSource, ParameterSet, TenantContext
from lgcloud.contract.discovery import implementations, resolve
from lgcloud.core.checkdigits import CheckDigitError, validate_lg_code
from lgcloud.municipalities.queries import get_municipality

from .models import OpenDataRelease
from .rules.disclosure import TOTAL, Key, Previous, build_cube, key_of, key_text, suppress

PARAMETERS = ParameterSet(Path(__file__).resolve().parent / "parameters")
REGISTRY_GYOMU = "001"  # 住民基本台帳: the register the aggregates are read from
SUPPRESSED_MARK = "X"  # as e-Stat marks 秘匿 cells

AGE_BANDS = (*tuple(f"{a}〜{a + 4}歳" for a in range(0, 100, 5)), "100歳以上")
SEXES = {"1": "男", "2": "女"}
HOUSEHOLD_SIZES = ("1人", "2人", "3人", "4人", "5人", "6人以上")
CHANGE_TYPES = ("転入", "転出", "転居", "出生", "死亡", "その他")


@dataclass(frozen=True)
class Column:
    name: str  # as in the CSV header and the JSON keys
    label: str
    description: str


@dataclass(frozen=True)
class TableSpec:
    name: str  # population / households / changes (the API path and the file name)
    title: str
    dimensions: tuple[Column, ...]
    measure: Column


TABLES: dict[str, TableSpec] = {
    t.name: t
    for t in (
        TableSpec(
            "population",
            "町丁目別・5歳階級別・男女別人口",
            (
                Column("town", "町丁目", "住民票の住所の町丁目（丁目のない町は町名）。「計」は団体全体。"),
                Column("age_band", "年齢階級", "基準日における満年齢の5歳階級（100歳以上は一つ）。「計」は全年齢。"),
                Column("sex", "性別", "住民票に記載の性別（男・女）。「計」は男女計。"),
            ),
            Column("population", "人口", "基準日に住民基本台帳に記録されている住民の数（人）。"),
        ),
        TableSpec(
            "households",
            "町丁目別・世帯人員別世帯数",
            (
                Column("town", "町丁目", "世帯主の住所の町丁目。「計」は団体全体。"),
                Column("size", "世帯人員", "世帯の人数（6人以上は一つ）。「計」は全世帯。"),
            ),
            Column("households", "世帯数", "基準日に住民基本台帳に記録されている世帯の数。"),
        ),
        TableSpec(
            "changes",
            "月別・異動事由別の異動件数",
            (
                Column("month", "月", "異動日の年月（YYYY-MM）。「計」は集計期間全体。"),
                Column(
                    "change_type",
                    "異動事由",
                    "転入・転出（確定）・転居・出生・死亡、その他（職権記載・職権消除・世帯の変更など）。「計」は全事由。",
                ),
            ),
            Column("changes", "件数", "異動日が集計期間内の異動の件数（修正の記録は除く）。"),
        ),
    )
}


PUBLIC_PURPOSE = "ops.opendata.public"


class NoSource(LookupError):
    """No installed app publishes the 住民基本台帳 aggregates."""


@cache
def source() -> OpenDataSource:
    for m in implementations(REGISTRY_GYOMU):
        if m.opendata:
            found = resolve(m.opendata)
            if isinstance(found, OpenDataSource):
                return found
    raise NoSource("住民基本台帳の集計を提供する業務アプリがインストールされていません。")


def threshold(on: date) -> int:
    return int(PARAMETERS.value("suppression.threshold", on))


def licence(on: date) -> str:
    return str(PARAMETERS.value("licence", on))


def months(start: date, end: date) -> list[str]:
    out, y, m = [], start.year, start.month
    while (y, m) <= (end.year, end.month):
        out.append(f"{y:04d}-{m:02d}")
        y, m = (y + 1, 1) if m == 12 else (y, m + 1)
    return out


def counts(ctx: TenantContext, reference_date: date, since: date) -> dict[str, tuple[list[list[str]], dict[Key, int]]]:
    """Each table's dimension values and inner counts, read from the register (no persons leave it)."""
    src = source()
    population: dict[Key, int] = {}
    for p in src.population(ctx, reference_date):
        cell: Key = (p.town, AGE_BANDS[p.age_band], SEXES.get(p.sex, "不詳"))
        population[cell] = population.get(cell, 0) + p.count
    households: dict[Key, int] = {}
    for h in src.households(ctx, reference_date):
        size: Key = (h.town, HOUSEHOLD_SIZES[min(h.size, 6) - 1])
        households[size] = households.get(size, 0) + h.count
    changes: dict[Key, int] = {}
    for c in src.changes(ctx, since, reference_date):
        kind: Key = (c.month, c.change_type if c.change_type in CHANGE_TYPES else "その他")
        changes[kind] = changes.get(kind, 0) + c.count
    towns = sorted({k[0] for k in population} | {k[0] for k in households})
    sexes = sorted({k[2] for k in population} | {"男", "女"}, key=lambda s: ("男", "女", "不詳").index(s))
    return {
        "population": ([towns, list(AGE_BANDS), sexes], population),
        "households": ([towns, list(HOUSEHOLD_SIZES)], households),
        "changes": ([months(since, reference_date), list(CHANGE_TYPES)], changes),
    }


@dataclass(frozen=True)
class Prepared:
    tables: dict[str, Any]  # what is published: per table, its dimensions and rows (suppressed: null)
    suppressed: dict[str, list[str]]  # per table, the hidden cells' keys (key_text)
    primary: dict[str, int]  # per table, how many cells were below the threshold
    sha256: str


@dataclass(frozen=True)
class Basis:
    """The previous published release a new one must stay consistent with (differencing)."""

    reference_date: date
    changes_since: date
    suppressed: Mapping[str, list[str]]


def prepare(
    ctx: TenantContext,
    reference_date: date,
    since: date,
    *,
    previous: Basis | None = None,
    limit: int | None = None,
) -> Prepared:
    """The suppressed tables of a release, audited together with the previous published release."""
    k = limit or threshold(reference_date)
    before = counts(ctx, previous.reference_date, previous.changes_since) if previous is not None else {}
    tables: dict[str, Any] = {}
    suppressed: dict[str, list[str]] = {}
    primary_counts: dict[str, int] = {}
    for name, (dimensions, inner) in counts(ctx, reference_date, since).items():
        cube = build_cube(dimensions, inner)
        earlier = None
        if previous is not None and name in before:
            old = build_cube(*before[name])
            common = set(cube.cells) & set(old.cells)
            moved = max((abs(cube.cells[c] - old.cells[c]) for c in common), default=0)
            hidden_before = frozenset(key_of(t) for t in previous.suppressed.get(name, []))
            earlier = Previous(old, hidden_before & set(old.cells), moved)
        primary, hidden = suppress(cube, k, (), earlier)
        rows = [[*key, None if key in hidden else n] for key, n in cube.cells.items()]
        tables[name] = {"dimensions": dimensions, "rows": rows}
        suppressed[name] = sorted(key_text(key) for key in hidden)
        primary_counts[name] = len(primary)
    digest = hashlib.sha256(json.dumps(tables, ensure_ascii=False, sort_keys=True).encode()).hexdigest()
    return Prepared(tables, suppressed, primary_counts, digest)


# --- as published --------------------------------------------------------------------------


def table_csv(name: str, table: Mapping[str, Any]) -> str:
    spec = TABLES[name]
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow([c.label for c in spec.dimensions] + [spec.measure.label])
    for row in table["rows"]:
        writer.writerow([*row[:-1], SUPPRESSED_MARK if row[-1] is None else row[-1]])
    return out.getvalue()


def table_json(name: str, table: Mapping[str, Any], meta: Mapping[str, Any]) -> dict[str, Any]:
    spec = TABLES[name]
    keys = [c.name for c in spec.dimensions]
    return {
        **meta,
        "table": name,
        "title": spec.title,
        "total_label": TOTAL,
        "rows": [
            {**dict(zip(keys, row[:-1], strict=True)), spec.measure.name: row[-1], "suppressed": row[-1] is None}
            for row in table["rows"]
        ],
    }


def dictionary() -> list[dict[str, Any]]:
    """The data dictionary: every table's columns, in Japanese, for the page, the API and the docs."""
    return [
        {
            "table": spec.name,
            "title": spec.title,
            "columns": [
                {"name": c.name, "label": c.label, "description": c.description}
                for c in (*spec.dimensions, spec.measure)
            ],
        }
        for spec in TABLES.values()
    ]


def release_meta(release: OpenDataRelease, municipality_name: str) -> dict[str, object]:
    """What every published file says about itself: who, when, how protected, under which licence."""
    return {
        "lg_code": release.municipality_id,
        "municipality": municipality_name,
        "release": release.number,
        "reference_date": release.reference_date.isoformat(),
        "changes_since": release.changes_since.isoformat(),
        "published_at": release.published_at.isoformat() if release.published_at else None,
        "suppression_threshold": release.threshold,
        "suppressed_mark": SUPPRESSED_MARK,
        "licence": licence(release.reference_date),
        "attribution": f"{municipality_name}「住民基本台帳に基づく人口・世帯・異動の統計」（lgcloud）",
    }


def public_context(lg_code: str) -> tuple[TenantContext, str]:
    try:
        validate_lg_code(lg_code)
    except CheckDigitError:
        raise Http404 from None
    municipality = get_municipality(lg_code)
    if municipality is None:
        raise Http404
    return TenantContext.system(lg_code, purpose=PUBLIC_PURPOSE, actor_name="opendata"), municipality.full_name
