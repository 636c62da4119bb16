"""Dated legal parameters (OpenFisca style), read only through an ``as_of`` lookup.

A parameter file is YAML. Each parameter names where the law says it, and has dated values;
a change in law is a new dated value, never an edit of the past::

    per_capita_levy.municipal:
      description: 均等割（市町村民税）
      reference: 地方税法 第310条 https://laws.e-gov.go.jp/law/325AC0000000226#Mp-At_310
      values:
        2024-01-01: 3000

A value may also be a mapping ``{value: …, reference: …}`` when one dated value has its
own source. Per-municipality overrides (条例) are files of the same shape, named after a
prefecture (``pref-28.yaml``: 兵庫県の県民緑税) or a municipality (``131016.yaml``); a lookup
takes the municipality's value first, then the prefecture's, then the national one.

Pure (no ORM, no clock): the caller passes the date and the municipality.
"""

from __future__ import annotations

import datetime as dt
from bisect import bisect_right
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml


class ParameterError(LookupError):
    """A parameter is missing, has no value on the date asked, or its file is malformed."""


@dataclass(frozen=True)
class DatedValue:
    since: dt.date
    value: Any
    reference: str


@dataclass(frozen=True)
class Parameter:
    name: str
    description: str
    reference: str
    values: tuple[DatedValue, ...]  # sorted by ``since``

    def at(self, on: dt.date) -> DatedValue | None:
        i = bisect_right([v.since for v in self.values], on)
        return self.values[i - 1] if i else None


def _parse_file(path: Path) -> dict[str, Parameter]:
    raw = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    if not isinstance(raw, dict):
        raise ParameterError(f"{path.name}: a mapping of parameters is expected")
    out: dict[str, Parameter] = {}
    for name, spec in raw.items():
        if not isinstance(spec, dict) or not isinstance(spec.get("values"), dict) or not spec["values"]:
            raise ParameterError(f"{path.name}: {name}: 'values' (dated) is required")
        reference = str(spec.get("reference") or "")
        values = []
        for since, value in spec["values"].items():
            if not isinstance(since, dt.date):
                raise ParameterError(f"{path.name}: {name}: {since!r} is not a date (YYYY-MM-DD)")
            own = ""
            if isinstance(value, dict) and "value" in value:
                own, value = str(value.get("reference") or ""), value["value"]
            if not (own or reference):
                raise ParameterError(f"{path.name}: {name}: every value needs a legal reference")
            values.append(DatedValue(since, value, own or reference))
        values.sort(key=lambda v: v.since)
        out[str(name)] = Parameter(str(name), str(spec.get("description") or ""), reference, tuple(values))
    return out


class ParameterSet:
    """National parameters of one directory, with the overrides in its ``ordinances/`` folder."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory
        self.national: dict[str, Parameter] = {}
        for path in sorted(directory.glob("*.yaml")):
            self.national.update(_parse_file(path))
        self.overrides: dict[str, dict[str, Parameter]] = {}
        for path in sorted((directory / "ordinances").glob("*.yaml")):
            self.overrides[path.stem] = _parse_file(path)

    def lookup(self, name: str, on: dt.date, lg_code: str | None = None) -> DatedValue:
        """The value of ``name`` in force on ``on`` for ``lg_code`` (municipality, then prefecture, then national)."""
        layers = []
        if lg_code:
            layers += [self.overrides.get(lg_code, {}), self.overrides.get(f"pref-{lg_code[:2]}", {})]
        layers.append(self.national)
        for layer in layers:
            parameter = layer.get(name)
            if parameter is not None and (found := parameter.at(on)) is not None:
                return found
        raise ParameterError(f"parameter {name} has no value on {on.isoformat()}")

    def value(self, name: str, on: dt.date, lg_code: str | None = None) -> Any:
        return self.lookup(name, on, lg_code).value

    def names(self) -> list[str]:
        return sorted(self.national)
