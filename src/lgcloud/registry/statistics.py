"""住民記録 for metering and open data: counts read from the register, never a person.

``usage`` reports the day's 住民票の写し issued and the residents registered (ops's 人口割);
``OPENDATA`` the aggregates ops suppresses and publishes (population by 町丁目 × 5-year age ×
sex, households by size, 異動 by month and type). Each reads the history (PersonVersion,
Change), so a past reference date gives the register as it stood then.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Mapping
from datetime import date, datetime, time, timedelta
from typing import Any

from django.db.models import Count
from django.db.models.fields.json import KT
from django.utils import timezone

from lgcloud.audit.actions import record as audit
from lgcloud.contract import ChangeCount, HouseholdCount, OpenDataSource, PopulationCount, TenantContext, bound
from lgcloud.municipalities.queries import get_municipality

from .codes import ChangeType, ResidentStatus
from .models import Certificate, Change, PersonVersion

# 町丁目: up to and including the first 丁目; otherwise the 町名 before the first digit (番地).
_CHOME = re.compile(r"^(.+?[一二三四五六七八九十〇]+丁目)")
_BEFORE_NUMBER = re.compile(r"^(\D+?)(?=[0-9０-９])")
UNKNOWN_TOWN = "不詳"

# How 異動事由 are grouped in the open data (a 職権 or household change moves nobody in or out).
CHANGE_GROUPS: dict[str, str] = {
    ChangeType.MOVE_IN: "転入",
    ChangeType.MOVE_OUT_CONFIRMED: "転出",
    ChangeType.ADDRESS_CHANGE: "転居",
    ChangeType.BIRTH: "出生",
    ChangeType.DEATH: "死亡",
}
OTHER_CHANGES = "その他"


def age_on(birth: date, on: date) -> int:
    """Completed years on ``on`` (the statistics' age: years since birth, not the legal 年齢計算 day before)."""
    return on.year - birth.year - ((on.month, on.day) < (birth.month, birth.day))


def town_of(address: str, prefix: str) -> str:
    """The 町丁目 of an address in the municipality whose name (都道府県 + 郡 + 市区町村) is ``prefix``."""
    if not address.startswith(prefix):
        return UNKNOWN_TOWN
    rest = address[len(prefix) :]
    found = _CHOME.match(rest) or _BEFORE_NUMBER.match(rest)
    return (found.group(1) if found else rest) or UNKNOWN_TOWN


def _day_bounds(day: date) -> tuple[datetime, datetime]:
    start = timezone.make_aware(datetime.combine(day, time.min))
    return start, start + timedelta(days=1)


def _latest_items(ctx: TenantContext, on: date, items: tuple[str, ...]) -> list[dict[str, Any]]:
    """Each person's newest version with 異動日 ≤ ``on`` (only ``items``), residents only."""
    latest: dict[int, tuple[Any, ...]] = {}
    for row in (
        PersonVersion.objects.filter(municipality_id=ctx.tenant_code, effective_date__lte=on)
        .order_by("person_id", "effective_date", "id")
        .values_list("person_id", KT("record__status"), *(KT(f"record__{i}") for i in items))
    ):
        latest[row[0]] = row[1:]
    return [dict(zip(items, found[1:], strict=True)) for found in latest.values() if found[0] != ResidentStatus.REMOVED]


def _prefix(ctx: TenantContext) -> str:
    municipality = get_municipality(ctx.tenant_code)
    return municipality.full_name if municipality is not None else ""


def population(ctx: TenantContext, as_of: date) -> list[PopulationCount]:
    with bound(ctx):
        people = _latest_items(ctx, as_of, ("birth_date", "sex", "address"))
        audit(ctx, "registry.statistics.population", subject_type="statistics", subject_id=as_of.isoformat())
    prefix = _prefix(ctx)
    counts: Counter[tuple[str, int, str]] = Counter()
    for p in people:
        age = age_on(date.fromisoformat(str(p["birth_date"])), as_of)
        counts[(town_of(str(p["address"]), prefix), min(age // 5, 20), str(p["sex"]))] += 1
    return [PopulationCount(t, a, s, n) for (t, a, s), n in sorted(counts.items())]


def households(ctx: TenantContext, as_of: date) -> list[HouseholdCount]:
    with bound(ctx):
        people = _latest_items(ctx, as_of, ("household_number", "address"))
        audit(ctx, "registry.statistics.households", subject_type="statistics", subject_id=as_of.isoformat())
    prefix = _prefix(ctx)
    members: Counter[str] = Counter()
    town: dict[str, str] = {}
    for p in people:
        number = str(p["household_number"])
        members[number] += 1
        town.setdefault(number, town_of(str(p["address"]), prefix))
    counts: Counter[tuple[str, int]] = Counter((town[h], min(n, 6)) for h, n in members.items())
    return [HouseholdCount(t, s, n) for (t, s), n in sorted(counts.items())]


def changes(ctx: TenantContext, start: date, end: date) -> list[ChangeCount]:
    """異動 with 異動日 in [start, end], by month and group (corrections excluded: they move nobody)."""
    with bound(ctx):
        rows = list(
            Change.objects.filter(
                municipality_id=ctx.tenant_code, effective_date__gte=start, effective_date__lte=end, corrects=None
            ).values_list("effective_date", "change_type")
        )
    counts: Counter[tuple[str, str]] = Counter(
        (d.strftime("%Y-%m"), CHANGE_GROUPS.get(t, OTHER_CHANGES)) for d, t in rows
    )
    return [ChangeCount(m, t, n) for (m, t), n in sorted(counts.items())]


def usage(ctx: TenantContext, day: date) -> Mapping[str, int]:
    """Certificates issued on ``day`` (JST) and residents registered at its end."""
    start, end = _day_bounds(day)
    with bound(ctx):
        issued = Certificate.objects.filter(
            municipality_id=ctx.tenant_code, issued_at__gte=start, issued_at__lt=end
        ).aggregate(n=Count("id"))["n"]
        residents = len(_latest_items(ctx, day, ()))
    return {"certificates_issued": int(issued or 0), "residents": residents}


OPENDATA = OpenDataSource(population=population, households=households, changes=changes)
