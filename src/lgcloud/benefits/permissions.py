"""給付's permissions (declared in its manifest; call sites use the members)."""

from __future__ import annotations

from lgcloud.contract import Permission


class BenefitsPermission(Permission):
    CASE_READ = "benefits:case:read", "給付（児童手当等）の参照"
    CASE_WRITE = "benefits:case:write", "給付（児童手当等）の処理"
