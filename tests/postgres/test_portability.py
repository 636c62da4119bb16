"""The standard layout on PostgreSQL, as the app role under row-level security.

Export municipality A, import the bundle into an empty municipality, export that: the same bytes. The
import writes only rows of its own municipality (RLS WITH CHECK would refuse anything else), and the
export of A holds only A's residents. (All-or-nothing is tested with an injected failure on SQLite;
the import is one transaction on either engine.)
"""

from __future__ import annotations

from pathlib import Path

import pytest

from lgcloud.core.tenancy import TenantContext, bound
from lgcloud.municipalities.actions import create_municipality, shipped_rows
from lgcloud.portability import actions
from lgcloud.registry.models import Person

from .conftest import Seed

pytestmark = pytest.mark.django_db

MINATO = "131032"


def _empty_municipality() -> str:
    row = next(r for r in shipped_rows() if r["lg_code"] == MINATO)
    fields = {k: row[k] for k in ("lg_code", "name", "name_kana", "prefecture_code", "prefecture", "county", "kind")}
    create_municipality(TenantContext.system(None, purpose="test"), **fields, kyuchi=row["kyuchi"], on_platform=True)
    return MINATO


def test_round_trip_as_the_app_role(seed: Seed, tmp_path: Path) -> None:
    target = _empty_municipality()
    source = TenantContext.system(seed.a.lg_code, purpose="test")
    first = actions.export_bundle(source, tmp_path / "a", municipality_name=seed.a.name)
    counts = {f.entity: f.rows for f in first.files}
    assert counts["person"] >= 2 and counts["protection"] >= 1 and counts["individual_number"] >= 1

    result = actions.import_bundle(
        TenantContext.system(target, purpose="test"), tmp_path / "a", allow_other_municipality=True
    )
    assert result.stats is not None and result.stats.persons == counts["person"]
    actions.export_bundle(TenantContext.system(target, purpose="test"), tmp_path / "c", municipality_name="港区")
    for name in (f.file for f in first.files):
        assert (tmp_path / "a" / name).read_bytes() == (tmp_path / "c" / name).read_bytes(), name
    # A's bundle holds A's residents and none of B's (same names, other municipality), read under RLS.
    with bound(TenantContext.system(seed.a.lg_code, purpose="test")):
        assert counts["person"] == Person.objects.count()  # RLS: only A's rows are visible here
    with bound(TenantContext.system(seed.b.lg_code, purpose="test")):
        b_codes = set(Person.objects.values_list("resident_code", flat=True))
    assert b_codes
    a_codes = {line.split(",")[17] for line in (tmp_path / "a" / "person.csv").read_text().splitlines()[1:]}
    assert a_codes and not (a_codes & b_codes)
