"""Finishing touches for a synthetic town: a few 支援措置, placed the way the counter would place them.

For demos, rehearsals and benchmarks only (``lgcloud generate_town``). Deterministic for a seed: the
same town and seed protect the same residents.
"""

from __future__ import annotations

import random
from datetime import date, timedelta

from lgcloud.core.tenancy import TenantContext, bound

from .actions import Adversary, set_protection
from .codes import ResidentStatus
from .models import Person

ADVERSARIES = ("加害 太郎", "相手方 一郎", "山田 某", "佐藤 某")


def add_protections(ctx: TenantContext, count: int, *, seed: int, today: date) -> list[str]:
    """Put ``count`` adult residents (and their co-resident family) under 支援措置; their 宛名番号."""
    if count <= 0:
        return []
    rng = random.Random(seed)  # noqa: S311 — synthetic data, not security
    with bound(ctx):
        adults = Person.objects.filter(
            municipality_id=ctx.tenant_code,
            status=ResidentStatus.RESIDENT,
            birth_date__lte=today.replace(year=today.year - 20),
        ).order_by("atena_number")
        total = adults.count()
        picks = sorted(rng.sample(range(total), min(count, total)))
        chosen = [adults.values_list("atena_number", "household_id")[i] for i in picks]
        families = {
            atena: list(
                Person.objects.filter(
                    municipality_id=ctx.tenant_code,
                    household_id=household,
                    status=ResidentStatus.RESIDENT,
                    birth_date__gt=today.replace(year=today.year - 18),
                ).values_list("atena_number", flat=True)
            )
            for atena, household in chosen
        }
    protected = []
    for atena, children in families.items():
        starts = today - timedelta(days=rng.randrange(0, 300))
        set_protection(
            ctx,
            atena_number=atena,
            starts_on=starts,
            adversary=Adversary(rng.choice(ADVERSARIES), date(rng.randrange(1950, 2000), rng.randrange(1, 13), 1)),
            co_residents=children,
            reason="配偶者からの暴力（DV）（合成データ）",
        )
        protected.append(atena)
    return protected
