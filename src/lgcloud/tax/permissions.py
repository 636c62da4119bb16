"""個人住民税's permissions (declared in its manifest; call sites use the members)."""

from __future__ import annotations

from lgcloud.contract import Permission


class TaxPermission(Permission):
    ASSESSMENT_READ = "tax:assessment:read", "個人住民税の課税情報の参照"
    ASSESSMENT_WRITE = "tax:assessment:write", "個人住民税の賦課処理"
