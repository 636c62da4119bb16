from __future__ import annotations

from typing import Any

from ninja import Schema


class MunicipalityOut(Schema):
    lg_code: str
    name: str
    name_kana: str
    prefecture: str
    kind: str
    kind_label: str
    kyuchi: str
    on_platform: bool

    @staticmethod
    def resolve_kind_label(obj: Any) -> str:
        return str(obj.get_kind_display())
