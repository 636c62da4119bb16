"""What an app reports for metering and open data (counts only: never a person).

``Manifest.usage`` names ``usage(ctx, day) -> Mapping[str, int]``: the app's own countables
for one JST day, read from its durable records when ops closes the day (so the numbers can
be computed again): ``certificates_issued`` (counter), ``residents`` (gauge: residents
registered at the end of the day, the 人口割 of the charge formula). Unknown names are
refused by ops.

``Manifest.opendata`` names an :class:`OpenDataSource`: the 住民基本台帳 aggregates that
ops suppresses and publishes (docs/opendata.md).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import date
from typing import Any

# The meters an app may report (ops.metering.APP_METERS holds their units and Japanese names).
APP_METERS = ("certificates_issued", "residents")

UsageReporter = Callable[[Any, date], Mapping[str, int]]


@dataclass(frozen=True)
class PopulationCount:
    town: str  # 町丁目 (e.g. 九段南一丁目), as the address is written
    age_band: int  # 0: 0–4 years, 1: 5–9 … 20: 100 and over (age on the reference date)
    sex: str  # "1" 男, "2" 女 (住民票の記載)
    count: int


@dataclass(frozen=True)
class HouseholdCount:
    town: str
    size: int  # members; 6 means 6 or more
    count: int


@dataclass(frozen=True)
class ChangeCount:
    month: str  # YYYY-MM (異動日)
    change_type: str  # 異動事由 as a label (転入, 転出, 転居, 出生, 死亡, その他)
    count: int


@dataclass(frozen=True)
class OpenDataSource:
    """``population(ctx, as_of)``, ``households(ctx, as_of)``, ``changes(ctx, start, end)``: counts, no persons."""

    population: Callable[[Any, date], list[PopulationCount]]
    households: Callable[[Any, date], list[HouseholdCount]]
    changes: Callable[[Any, date, date], list[ChangeCount]]
