"""給付 parameters (dated YAML here, per-municipality overrides in ``ordinances/``)."""

from __future__ import annotations

from datetime import date
from pathlib import Path

from lgcloud.core.parameters import ParameterSet

from ..rules.child_allowance import ChildAllowanceLaw

PARAMETERS = ParameterSet(Path(__file__).resolve().parent)


def child_allowance_law(month: date, lg_code: str | None = None) -> ChildAllowanceLaw:
    """The 児童手当 law in force in ``month`` (dated values in child_allowance.yaml)."""
    amounts = PARAMETERS.lookup("child_allowance.monthly", month, lg_code)
    v = amounts.value
    return ChildAllowanceLaw(
        eligible_age=int(PARAMETERS.value("child_allowance.eligible_age", month, lg_code)),
        counting_age=int(PARAMETERS.value("child_allowance.counting_age", month, lg_code)),
        under_3=int(v["under_3"]),
        third_or_later_under_3=int(v["third_or_later_under_3"]),
        third_or_later=int(v["third_or_later"]),
        third_or_later_from_lower_secondary=int(v["third_or_later_from_lower_secondary"]),
        other=int(v["other"]),
        payment_months=tuple(int(m) for m in PARAMETERS.value("child_allowance.payment_months", month, lg_code)),
        reference=amounts.reference,
    )
