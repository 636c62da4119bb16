"""System checks run by ``lgcloud check`` and at start-up."""

from __future__ import annotations

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
