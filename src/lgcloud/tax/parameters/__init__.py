"""The 個人住民税 parameters (dated YAML in this folder, 条例 overrides in ``ordinances/``).

``law_for`` resolves everything the rules need for one fiscal year and municipality, as in
force on the 賦課期日 (1 January of the fiscal year).
"""

from __future__ import annotations

from datetime import date
from fractions import Fraction
from functools import lru_cache
from pathlib import Path

from lgcloud.core.parameters import ParameterSet

from ..rules.resident_tax import TaxLaw

PARAMETERS = ParameterSet(Path(__file__).resolve().parent)
# Municipalities with no 級地 on file are treated as 3級地 (the lowest base, so nobody is taxed
# who a designated grade would exempt is *not* guaranteed: set the 級地 on the municipality).
DEFAULT_KYUCHI_GRADE = "3"


def assessment_date(fiscal_year: int) -> date:
    """賦課期日: 1 January of the fiscal year (地方税法 第39条, 第318条)."""
    return date(fiscal_year, 1, 1)


@lru_cache(maxsize=256)
def law_for(fiscal_year: int, lg_code: str, kyuchi: str = "") -> TaxLaw:
    on = assessment_date(fiscal_year)
    grade = (kyuchi or DEFAULT_KYUCHI_GRADE)[0]

    def v(name: str) -> object:
        return PARAMETERS.value(name, on, lg_code)

    names = [
        "income_levy_rate.municipal",
        "income_levy_rate.prefectural",
        "per_capita_levy.municipal",
        "per_capita_levy.prefectural",
        "forest_environment_tax",
        "basic_deduction",
        "employment_income",
        "public_pension_income",
        "personal_deductions",
        "adjustment_credit",
        "income_levy_exemption",
        "per_capita_exemption",
        "personal_exemption_income",
        "dependent_income_limit",
    ]
    references = {n: PARAMETERS.lookup(n, on, lg_code).reference for n in names}
    pension = v("public_pension_income")
    assert isinstance(pension, dict)  # noqa: S101 - the YAML's shape, checked by tests/tax
    per_capita = v("per_capita_exemption")
    assert isinstance(per_capita, dict)  # noqa: S101
    return TaxLaw(
        fiscal_year=fiscal_year,
        kyuchi_grade=grade,
        municipal_rate=Fraction(str(v("income_levy_rate.municipal"))),
        prefectural_rate=Fraction(str(v("income_levy_rate.prefectural"))),
        per_capita_municipal=int(str(v("per_capita_levy.municipal"))),
        per_capita_prefectural=int(str(v("per_capita_levy.prefectural"))),
        forest_environment_tax=int(str(v("forest_environment_tax"))),
        basic_deduction=tuple(v("basic_deduction")),  # type: ignore[arg-type]
        employment_income=tuple(v("employment_income")),  # type: ignore[arg-type]
        pension_under_65=tuple(pension["under_65"]),
        pension_65=tuple(pension["age_65"]),
        personal=v("personal_deductions"),  # type: ignore[arg-type]
        adjustment=v("adjustment_credit"),  # type: ignore[arg-type]
        income_levy_exemption=v("income_levy_exemption"),  # type: ignore[arg-type]
        per_capita_exemption=per_capita[grade],
        personal_exemption_income=int(str(v("personal_exemption_income"))),
        references=references,
    )
