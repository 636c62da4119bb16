"""The manifest of lgcloud's 個人住民税 (業務 004)."""

from __future__ import annotations

from lgcloud import __version__
from lgcloud.contract import DataRead, Manifest, MenuItem, Role

from .permissions import TaxPermission as P

MANIFEST = Manifest(
    id="lgcloud-tax",
    gyomu="004",
    name="lgcloud 個人住民税",
    vendor="lgcloud",
    version=__version__,
    django_app="lgcloud.tax",
    description="個人住民税の申告の取込み、賦課計算、税額決定通知書。",
    permissions=P,
    grants={Role.TAX_CLERK: frozenset({P.ASSESSMENT_READ, P.ASSESSMENT_WRITE})},
    urls="lgcloud.tax.urls",
    menu=(MenuItem("個人住民税", "tax:assessments", P.ASSESSMENT_READ, "申告の取込み、賦課計算、税額決定通知書"),),
    reads=(
        DataRead(
            gyomu="001",
            purpose="tax.resident_tax",
            items=("full_name", "birth_date", "address", "household_number", "status"),
            legal_basis="地方税法 第294条（賦課期日に住所を有する者）",
        ),
    ),
    parameters=("lgcloud.tax.parameters:PARAMETERS",),
    job_kinds={"tax.assessment": "個人住民税の賦課計算"},
)
