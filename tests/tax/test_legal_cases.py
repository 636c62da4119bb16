"""The legal test cases in legal_cases.yaml, each computed by the pure rules with the dated parameters."""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Any

import pytest
import yaml

from lgcloud.tax.parameters import law_for
from lgcloud.tax.rules.collection import ordinary_collection_instalments, special_collection_monthly
from lgcloud.tax.rules.resident_tax import Declaration, assess

CASES: list[dict[str, Any]] = yaml.safe_load((Path(__file__).parent / "legal_cases.yaml").read_text(encoding="utf-8"))


@pytest.mark.parametrize("case", CASES, ids=[c["name"] for c in CASES])
def test_legal_case(case: dict[str, Any]) -> None:
    assert case["source"], "every case cites its source"
    m = case["municipality"]
    law = law_for(case["fiscal_year"], m["lg_code"], m["kyuchi"])
    result = assess(Declaration(**case["inputs"]), law)
    got = {name: getattr(result, name) for name in case["expected"]}
    assert got == case["expected"]
    if "special_collection" in case:
        assert special_collection_monthly(result.total) == case["special_collection"]
    if "ordinary_collection" in case:
        assert ordinary_collection_instalments(result.total) == case["ordinary_collection"]


def test_the_breakdown_adds_up_and_cites_the_law() -> None:
    law = law_for(2026, "131016", "1-1")
    result = assess(
        Declaration(
            birth_date=date(1980, 1, 1),
            salary_income=5_000_000,
        ),
        law,
    )
    lines = {line.code: line for line in result.lines}
    assert lines["total"].amount == result.total
    assert (
        sum(
            lines[c].amount
            for c in (
                "income_levy_municipal",
                "income_levy_prefectural",
                "per_capita_municipal",
                "per_capita_prefectural",
                "forest_environment_tax",
            )
        )
        == result.total
    )
    assert "第20条の4の2" in lines["taxable_income"].reference
    assert "nomi" in lines["employment_income"].reference  # the 令和8年度 table's source
