"""Reads of the municipality list (platform reference data, visible to every signed-in user)."""

from __future__ import annotations

from datetime import date

from django.db.models import Q
from django.utils import timezone

from lgcloud.contract import Manifest, ResidentDirectory
from lgcloud.contract.discovery import installed, resolve
from lgcloud.core.middleware import request_cache
from lgcloud.core.permissions import PlatformPermission
from lgcloud.core.tenancy import TenantContext, bound, platform_scope

from .models import AppChoice as AppChoice  # re-exported for the pages (they never import models)
from .models import Municipality


def list_municipalities(
    *, prefecture_code: str | None = None, on_platform: bool | None = None, q: str | None = None
) -> list[Municipality]:
    qs = Municipality.objects.all()
    if prefecture_code:
        qs = qs.filter(prefecture_code=prefecture_code)
    if on_platform is not None:
        qs = qs.filter(on_platform=on_platform)
    if q:
        qs = qs.filter(Q(name__contains=q) | Q(name_kana__contains=q) | Q(lg_code__startswith=q))
    return list(qs.order_by("lg_code"))


def get_municipality(lg_code: str) -> Municipality | None:
    return Municipality.objects.filter(lg_code=lg_code).first()


def municipality_exists(lg_code: str) -> bool:
    return Municipality.objects.filter(lg_code=lg_code).exists()


def list_lg_codes(*, on_platform_only: bool = False) -> list[str]:
    qs = Municipality.objects.all()
    if on_platform_only:
        qs = qs.filter(on_platform=True)
    return list(qs.order_by("lg_code").values_list("lg_code", flat=True))


def count_by_kind() -> dict[str, int]:
    counts: dict[str, int] = {}
    for kind in Municipality.objects.values_list("kind", flat=True):
        counts[kind] = counts.get(kind, 0) + 1
    return counts


def count_on_platform() -> tuple[int, int]:
    """(municipalities on the platform, municipalities only listed)."""
    on = Municipality.objects.filter(on_platform=True).count()
    return on, Municipality.objects.count() - on


# -- the app directory: which implementation of each 業務 a municipality uses ---------------------


def active_apps(lg_code: str, on: date | None = None) -> dict[str, str]:
    """{業務 code: implementation id} in force for ``lg_code`` on ``on`` (today), installed apps only.

    One query per municipality and request (the request cache): routing, the navigation, procedures
    and consumers all ask. Platform directory data, read before any tenant context exists.
    """
    day = on or timezone.localdate()
    cache = request_cache()
    key = ("active_apps", lg_code, day)
    if cache is not None and key in cache:
        return dict(cache[key])
    installed_ids = set(installed())
    found: dict[str, str] = {}
    with platform_scope():  # the directory's policy admits the platform (no tenant block exists yet)
        rows = list(
            AppChoice.objects.filter(municipality_id=lg_code, state=AppChoice.State.APPROVED, effective_from__lte=day)
            .order_by("gyomu", "-effective_from", "-decided_at", "-id")
            .values_list("gyomu", "app_id")
        )
    for gyomu, app_id in rows:
        if gyomu not in found:
            found[gyomu] = app_id
    result = {g: a for g, a in found.items() if a in installed_ids}
    if cache is not None:
        cache[key] = result
    return dict(result)


def is_enabled(lg_code: str, app_id: str, on: date | None = None) -> bool:
    """Whether ``app_id`` is the implementation ``lg_code`` uses for its 業務 (on ``on``)."""
    m = installed().get(app_id)
    return m is not None and active_apps(lg_code, on).get(m.gyomu) == app_id


def enabled_manifests(lg_code: str, on: date | None = None) -> list[Manifest]:
    """The manifests of the apps ``lg_code`` uses, in 業務 order."""
    apps = installed()
    return [apps[a] for _, a in sorted(active_apps(lg_code, on).items())]


def app_choices(ctx: TenantContext, lg_code: str | None = None) -> list[AppChoice]:
    """The choices and requests of ``lg_code`` (a municipality's own; the operator's of any), newest first."""
    code = lg_code if ctx.is_platform or ctx.is_system else ctx.tenant_code
    if not ctx.is_platform:
        ctx.require(PlatformPermission.APPS_MANAGE)
    else:
        ctx.require(PlatformPermission.PLATFORM_APPS_APPROVE)
    with bound(ctx):
        qs = AppChoice.objects.all()
        if code:
            qs = qs.filter(municipality_id=code)
        return list(qs.order_by("-requested_at", "-id")[:500])


def pending_app_requests(ctx: TenantContext) -> list[AppChoice]:
    """Requests waiting for the operator's decision, oldest first."""
    ctx.require(PlatformPermission.PLATFORM_APPS_APPROVE)
    with bound(ctx):
        return list(
            AppChoice.objects.filter(state=AppChoice.State.REQUESTED)
            .select_related("municipality")
            .order_by("requested_at", "id")
        )


def app_users(ctx: TenantContext, on: date | None = None) -> dict[str, list[str]]:
    """{implementation id: [lg_code …]} of the municipalities that use each app on ``on`` (one query)."""
    ctx.require(PlatformPermission.PLATFORM_APPS_APPROVE)
    day = on or timezone.localdate()
    with bound(ctx):
        rows = list(
            AppChoice.objects.filter(state=AppChoice.State.APPROVED, effective_from__lte=day)
            .order_by("municipality_id", "gyomu", "-effective_from", "-decided_at", "-id")
            .values_list("municipality_id", "gyomu", "app_id")
        )
    seen: set[tuple[str, str]] = set()
    users: dict[str, list[str]] = {}
    for code, gyomu, app_id in rows:
        if (code, gyomu) in seen:
            continue
        seen.add((code, gyomu))
        users.setdefault(app_id, []).append(code)
    return users


def resident_directory(lg_code: str) -> ResidentDirectory | None:
    """The resident directory of the 住民基本台帳 implementation the municipality uses (None: it uses none).

    The platform signs residents in and checks applicants through it, whatever the implementation.
    """
    app_id = active_apps(lg_code).get("001")
    m = installed().get(app_id or "")
    if m is None or not m.residents:
        return None
    directory: ResidentDirectory = resolve(m.residents)
    return directory
