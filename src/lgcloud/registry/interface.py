"""住民記録's published interface: what the platform and other apps may call (docs/apps.md).

- :data:`RESIDENTS` is this implementation's resident directory (``lgcloud.contract.ResidentDirectory``),
  through which the platform signs residents in and checks applicants.

Everything else of the app is private to it.
"""

from __future__ import annotations

from datetime import date

from django.http import Http404
from django.utils import timezone

from lgcloud.contract import Resident, TenantContext

from . import queries
from .rules.record import fold_address, fold_name


class _Residents:
    def get(self, ctx: TenantContext, atena_number: str) -> Resident | None:
        try:
            rec = queries.get_record(ctx, atena_number)
        except Http404:
            return None
        return Resident(
            atena_number=rec.atena_number,
            full_name=rec.full_name,
            full_name_kana=rec.full_name_kana,
            birth_date=rec.birth_date,
            sex=rec.sex,
            address=rec.address,
            household_number=rec.household_number,
            active=rec.is_active,
            address_detail=rec.address_detail,
        )

    def household(self, ctx: TenantContext, atena_number: str, today: date) -> list[Resident]:
        rec = queries.get_record(ctx, atena_number)
        return [
            Resident(
                atena_number=m.atena_number,
                full_name=m.full_name,
                full_name_kana=m.full_name_kana,
                birth_date=m.birth_date,
                sex=m.sex,
                address=m.address,
                household_number=m.household_number,
                active=m.status == "resident",
            )
            for m in queries.get_household(ctx, rec.household_number, today=today)
            if m.status != "removed"
        ]

    def match(self, ctx: TenantContext, *, name: str, birth_date: date, sex: str | None, address: str) -> list[str]:
        found = queries.search_persons(
            ctx, queries.SearchQuery(name=name, birth_date=birth_date), today=timezone.localdate()
        ).results
        wanted_name = fold_name(name)
        wanted_address = fold_address(address)
        return [
            p.atena_number
            for p in found
            if fold_name(p.full_name) == wanted_name
            and (sex is None or p.sex == sex)
            and wanted_address.startswith(fold_address(p.address.split(" ")[0]))
        ]


RESIDENTS = _Residents()
