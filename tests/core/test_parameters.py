"""Dated parameters: a law change is a new dated value; ordinances override by municipality, then prefecture."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest

from lgcloud.core.parameters import ParameterError, ParameterSet


def _write(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")


def test_lookup_by_date_and_by_ordinance(tmp_path: Path) -> None:
    _write(
        tmp_path / "national.yaml",
        "levy:\n  reference: 地方税法 第310条\n  values:\n    2014-01-01: 3500\n    2024-01-01: 3000\n",
    )
    _write(tmp_path / "ordinances" / "pref-28.yaml", "levy:\n  reference: 県税条例\n  values:\n    2024-01-01: 3800\n")
    _write(tmp_path / "ordinances" / "282014.yaml", "levy:\n  reference: 市税条例\n  values:\n    2025-01-01: 4000\n")
    p = ParameterSet(tmp_path)
    assert p.value("levy", date(2023, 12, 31)) == 3500
    assert p.value("levy", date(2024, 1, 1)) == 3000
    assert p.value("levy", date(2024, 6, 1), "281000") == 3800  # the prefecture's ordinance
    assert p.value("levy", date(2024, 6, 1), "282014") == 3800  # the city's own starts later
    found = p.lookup("levy", date(2025, 6, 1), "282014")
    assert (found.value, found.reference) == (4000, "市税条例")
    assert p.value("levy", date(2024, 6, 1), "131016") == 3000
    with pytest.raises(ParameterError):
        p.value("levy", date(2013, 1, 1))


def test_every_value_needs_a_reference(tmp_path: Path) -> None:
    _write(tmp_path / "national.yaml", "levy:\n  values:\n    2024-01-01: 3000\n")
    with pytest.raises(ParameterError, match="legal reference"):
        ParameterSet(tmp_path)


@pytest.mark.parametrize("app", ["tax", "benefits"])
def test_shipped_parameters_load_and_cite_the_law(app: str) -> None:
    directory = Path(__file__).resolve().parents[2] / "src" / "lgcloud" / app / "parameters"
    p = ParameterSet(directory)
    assert p.names()
    for parameter in p.national.values():
        assert all(v.reference for v in parameter.values), parameter.name
