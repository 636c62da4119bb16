"""The resident directory: what the platform asks of the municipality's 住民基本台帳 implementation.

Signing a resident in (matching a verified identity to a person of the municipality) and filing a
procedure (is the applicant a resident?) need the 住民記録. The platform asks whichever
implementation of 業務 001 the municipality uses, through this protocol, which that app declares
in its manifest (``Manifest.residents``). Every read is the implementation's own, audited by it.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Protocol

from lgcloud.core.tenancy import TenantContext


@dataclass(frozen=True)
class Resident:
    atena_number: str
    full_name: str
    full_name_kana: str
    birth_date: date
    sex: str  # 1 男 / 2 女 (the standard layout's code)
    address: str
    household_number: str
    active: bool  # recorded and not removed (住民票 or 除票 pending)
    address_detail: str = ""  # 方書


class ResidentDirectory(Protocol):
    def get(self, ctx: TenantContext, atena_number: str) -> Resident | None:
        """One person of ``ctx``'s municipality, or None (not found and not allowed look the same)."""
        ...

    def household(self, ctx: TenantContext, atena_number: str, today: date) -> list[Resident]:
        """The person's household on ``today``, the 世帯主 first (``active``: living here now)."""
        ...

    def match(self, ctx: TenantContext, *, name: str, birth_date: date, sex: str | None, address: str) -> list[str]:
        """宛名番号 of the active residents whose 基本4情報 match (names and addresses compared on
        their search keys, so 髙/高 and IVS variants and a trailing 方書 do not block a match)."""
        ...
