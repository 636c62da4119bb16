"""System checks run by ``lgcloud check`` and at start-up."""

from __future__ import annotations

from types import MappingProxyType
from typing import Any

from django.conf import settings
from django.core.checks import CheckMessage, Error, register
from django.core.exceptions import ImproperlyConfigured

from lgcloud.core.residency import validate_storage_region


@register()
def storage_region_in_japan(app_configs: Any, **kwargs: Any) -> list[CheckMessage]:
    try:
        validate_storage_region(settings.STORAGE_REGION)
    except ImproperlyConfigured as exc:
        return [Error(str(exc), id="lgcloud.E001")]
    return []


# The certificates' fonts by family (registry/rendering.py loads exactly these files): names in
# IPAmj明朝, the only installed font with 𠮷 and the MJ variants; the rest in IPAex (Debian's paths).
CERTIFICATE_FONT_FILES = MappingProxyType(
    {
        "IPAmjMincho": "/usr/share/fonts/truetype/ipamj/ipamjm.ttf",
        "IPAexMincho": "/usr/share/fonts/opentype/ipaexfont-mincho/ipaexm.ttf",
        "IPAexGothic": "/usr/share/fonts/opentype/ipaexfont-gothic/ipaexg.ttf",
    }
)


@register()
def certificate_fonts_installed(app_configs: Any, **kwargs: Any) -> list[CheckMessage]:
    from pathlib import Path

    from django.core.checks import Warning as CheckWarning

    missing = [path for path in CERTIFICATE_FONT_FILES.values() if not Path(path).exists()]
    if missing:
        return [
            CheckWarning(
                "証明書用のフォントがありません: " + ", ".join(missing),
                hint=(
                    "apt-get install fonts-ipamj-mincho fonts-ipaexfont-mincho fonts-ipaexfont-gothic"
                    "（無いと証明書を作成できません）"
                ),
                id="lgcloud.W002",
            )
        ]
    return []
