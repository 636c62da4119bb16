"""Finding the installed 業務 apps: Python entry points in the group ``lgcloud.apps``.

A vendor's app is its own package; its ``pyproject.toml`` declares::

    [project.entry-points."lgcloud.apps"]
    acme-inkan = "acme_inkan.manifest:MANIFEST"

lgcloud's own apps are declared the same way in lgcloud's ``pyproject.toml``. The platform
never names an app: everything it knows of one comes from here. ``LGCLOUD_APPS`` (a comma
separated list of ids) limits which installed apps a deployment loads.
"""

from __future__ import annotations

import importlib
import os
from functools import cache
from importlib.metadata import entry_points
from typing import Any

from lgcloud.core.permissions import grant, register_permissions

from .manifest import Manifest, ManifestError

GROUP = "lgcloud.apps"


@cache
def installed() -> dict[str, Manifest]:
    """Every installed app's manifest by implementation id, validated, in id order."""
    wanted = {a.strip() for a in os.environ.get("LGCLOUD_APPS", "").split(",") if a.strip()}
    found: dict[str, Manifest] = {}
    for ep in sorted(entry_points(group=GROUP), key=lambda e: e.name):
        manifest = ep.load()
        if not isinstance(manifest, Manifest):
            raise ManifestError(f"entry point {ep.name} ({ep.value}) is not a lgcloud.contract.Manifest")
        if manifest.id != ep.name:
            raise ManifestError(f"entry point {ep.name} names the manifest of {manifest.id!r}: use the same id")
        if wanted and manifest.id not in wanted:
            continue
        manifest.validate()
        if manifest.id in found:
            raise ManifestError(f"app {manifest.id!r} is installed twice")
        found[manifest.id] = manifest
    missing = wanted - set(found)
    if missing:
        raise ManifestError(f"LGCLOUD_APPS names apps that are not installed: {', '.join(sorted(missing))}")
    for m in found.values():
        activate(m)
    return found


def activate(m: Manifest) -> None:
    """What loading an app changes on the platform: its permissions join the catalogue, its grants the roles."""
    if m.permissions is not None:
        register_permissions(m.permissions)
    grant(m.grants, residents=m.resident_grants)


def implementations(gyomu: str) -> list[Manifest]:
    """The installed implementations of one 業務."""
    return [m for m in installed().values() if m.gyomu == gyomu]


def manifest(app_id: str) -> Manifest:
    try:
        return installed()[app_id]
    except KeyError:
        raise LookupError(f"業務アプリ {app_id!r} はインストールされていません。") from None


def django_apps() -> list[str]:
    """The Django app packages of the installed apps (settings.INSTALLED_APPS)."""
    return [m.django_app for m in installed().values()]


def resolve(dotted: str) -> Any:
    """Import ``package.module:attribute`` (the manifest's references to code)."""
    module, _, attribute = dotted.partition(":")
    target: Any = importlib.import_module(module)
    for part in attribute.split("."):
        target = getattr(target, part)
    return target
