"""Dated parameters of the resident registry, with their legal reference (OpenFisca style).

``fees.json`` holds the 交付手数料 of each certificate kind as dated values
(``"values": {"2020-04-01": 300}``): the value in force on a day is the one with
the latest date not after it. The amount is set by each municipality's 手数料条例
(地方自治法 第228条); ``by_municipality`` maps a 団体コード to its own dated values
per kind and wins over the typical default where it has a value for the day.

The file is JSON rather than YAML because PyYAML is not a dependency; the
structure is the same as an OpenFisca parameter file.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from datetime import date
from functools import lru_cache
from pathlib import Path
from typing import Any

FEES_FILE = Path(__file__).with_name("fees.json")
FEE_KINDS = frozenset({"household", "individual", "record_items", "removed"})


@lru_cache(maxsize=1)
def _fees() -> dict[str, Any]:
    data: dict[str, Any] = json.loads(FEES_FILE.read_text(encoding="utf-8"))
    return data


def _value_on(values: Mapping[str, Any], on: date) -> int | None:
    current: tuple[date, int] | None = None
    for start_text, value in values.items():
        start = date.fromisoformat(start_text)
        if isinstance(value, bool) or not isinstance(value, int) or value < 0:
            raise ValueError(f"fees.json: {start_text} の値は0以上の整数（円）で記載してください。")
        if start <= on and (current is None or start > current[0]):
            current = (start, value)
    return None if current is None else current[1]


def fee_for(kind: str, lg_code: str, on: date) -> int:
    """The fee in yen for one certificate of ``kind`` issued by ``lg_code`` on ``on``."""
    if kind not in FEE_KINDS:
        raise KeyError(kind)
    data = _fees()
    override = data.get("by_municipality", {}).get(lg_code, {}).get(kind)
    for node in (override, data[kind]):
        if node:
            value = _value_on(node["values"], on)
            if value is not None:
                return value
    raise LookupError(f"{on.isoformat()} に有効な {kind} の手数料が定められていません。")
