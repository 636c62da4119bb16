"""給付 parameters (dated YAML here, per-municipality overrides in ``ordinances/``)."""

from __future__ import annotations

from pathlib import Path

from lgcloud.core.parameters import ParameterSet

PARAMETERS = ParameterSet(Path(__file__).resolve().parent)
