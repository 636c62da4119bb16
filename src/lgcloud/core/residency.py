"""Data residency: storage must stay in Japan (政府情報システム: 国内データセンター・国内法の裁判管轄)."""

from __future__ import annotations

from django.core.exceptions import ImproperlyConfigured

# Region identifiers of storage located in Japan, as the clouds on
# ガバメントクラウド name them, plus lgcloud's own names for the two sites.
JAPAN_REGIONS: frozenset[str] = frozenset(
    {
        "jp-east",  # lgcloud: 東日本サイト
        "jp-west",  # lgcloud: 西日本サイト
        "ap-northeast-1",  # AWS 東京
        "ap-northeast-3",  # AWS 大阪
        "asia-northeast1",  # Google Cloud 東京
        "asia-northeast2",  # Google Cloud 大阪
        "japaneast",  # Azure 東日本
        "japanwest",  # Azure 西日本
        "ap-tokyo-1",  # OCI 東京
        "ap-osaka-1",  # OCI 大阪
        "is1a",  # さくらのクラウド 石狩第1
        "is1b",  # さくらのクラウド 石狩第2
        "tk1a",  # さくらのクラウド 東京第1
        "tk1b",  # さくらのクラウド 東京第2
    }
)


def validate_storage_region(region: str) -> str:
    """Return ``region`` if it is in Japan; otherwise refuse with a clear message."""
    normalized = region.strip().lower()
    if normalized not in JAPAN_REGIONS:
        allowed = ", ".join(sorted(JAPAN_REGIONS))
        raise ImproperlyConfigured(
            f"LGCLOUD_STORAGE_REGION={region!r} は国内のリージョンではありません。"
            "住民データは日本国内に保管する必要があるため起動できません。"
            f" 指定できる値: {allowed}"
        )
    return normalized
