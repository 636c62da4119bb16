"""The linkage data map (``data_map.yaml``): purposes, the items each may read, and the legal basis.

Pure: reading the shipped file and answering questions about it; no ORM, no clock
(the caller passes the date).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from functools import lru_cache
from pathlib import Path
from typing import Any

import yaml

DATA_MAP_FILE = Path(__file__).with_name("data_map.yaml")
EVENTS_SCOPE = "events:read"


@dataclass(frozen=True)
class Purpose:
    code: str
    label: str
    business: str
    legal_basis: str
    references: tuple[str, ...]
    items_by_date: tuple[tuple[date, frozenset[str]], ...]

    def items_on(self, on: date) -> frozenset[str] | None:
        """The items in force on ``on`` (the entry with the latest date not after it), or None before any."""
        current: frozenset[str] | None = None
        for start, items in self.items_by_date:
            if start <= on:
                current = items
        return current


@dataclass(frozen=True)
class DataMap:
    scopes: dict[str, str]  # scope → label, purposes included
    purposes: dict[str, Purpose]


def _parse(raw: dict[str, Any]) -> DataMap:
    purposes: dict[str, Purpose] = {}
    for code, node in raw["purposes"].items():
        dated = sorted((date.fromisoformat(str(k)), frozenset(v or [])) for k, v in node["items"].items())
        if "individual_number" in {i for _, items in dated for i in items}:
            raise ValueError(f"data_map.yaml: {code}: 個人番号 must never be provided through linkage")
        purposes[code] = Purpose(
            code=code,
            label=node["label"],
            business=node["business"],
            legal_basis=" ".join(str(node["legal_basis"]).split()),
            references=tuple(node.get("references", [])),
            items_by_date=tuple(dated),
        )
    scopes = {name: node["label"] for name, node in raw.get("scopes", {}).items()}
    scopes.update({code: p.label for code, p in purposes.items()})
    return DataMap(scopes, purposes)


@lru_cache(maxsize=1)
def data_map() -> DataMap:
    return _parse(yaml.safe_load(DATA_MAP_FILE.read_text(encoding="utf-8")))


def purpose(code: str) -> Purpose | None:
    return data_map().purposes.get(code)


def all_scopes() -> dict[str, str]:
    return dict(data_map().scopes)
