"""Tenant placement: which PostgreSQL cluster holds each municipality's data.

At national scale (1,741 municipalities, ~125 M residents) one cluster is not
enough. ``LGCLOUD_TENANT_CLUSTERS`` names the extra clusters (alias → URL; the
default database is the platform's own and a cluster too), and the tenant
directory (:class:`~lgcloud.core.models.TenantPlacement`, in the default
database) says which cluster holds which municipality. A municipality not in the
directory lives on ``default``.

Routing follows the tenant context: :func:`lgcloud.core.tenancy.bound` asks
:func:`alias_for` for the municipality's cluster, opens its transaction there and
marks the alias current (a context variable) so that :class:`TenantRouter` sends
the ORM queries of tenant-owned models inside the block to the same connection.
Platform tables (the municipality directory, staff accounts, sessions) stay on
``default``. With no extra cluster configured every alias is ``default`` and
nothing changes.

A municipality being moved is *frozen*: writes to it are refused (503
``tenant_moving``, see :class:`TenantWriteFreezeMiddleware`) while its data is
copied. Workers cache the directory for ``LGCLOUD_TENANT_DIRECTORY_TTL`` seconds;
whoever changes the directory waits that long before relying on the change.
"""

from __future__ import annotations

import re
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.db import connections, models
from django.db.backends.base.base import BaseDatabaseWrapper
from django.http import HttpRequest, HttpResponse, JsonResponse

from lgcloud.core.problems import PROBLEM_CONTENT_TYPE, Problem

DEFAULT = "default"
_current: ContextVar[str | None] = ContextVar("lgcloud_tenant_alias", default=None)
_forced: ContextVar[str | None] = ContextVar("lgcloud_forced_alias", default=None)


@dataclass(frozen=True)
class Placement:
    lg_code: str
    cluster: str
    frozen: bool


_cache: dict[str, tuple[float, Placement]] = {}
_lock = threading.Lock()


def clusters() -> list[str]:
    return [DEFAULT, *getattr(settings, "TENANT_CLUSTERS", {})]


def placement(lg_code: str, *, fresh: bool = False) -> Placement:
    """The directory entry for ``lg_code`` (cached for ``TENANT_DIRECTORY_TTL`` unless ``fresh``)."""
    now = time.monotonic()
    if not fresh:
        hit = _cache.get(lg_code)
        if hit is not None and now - hit[0] < getattr(settings, "TENANT_DIRECTORY_TTL", 5.0):
            return hit[1]
    from lgcloud.core.models import TenantPlacement

    row = TenantPlacement.objects.using(DEFAULT).filter(lg_code=lg_code).values_list("cluster", "frozen").first()
    found = Placement(lg_code, row[0], row[1]) if row else Placement(lg_code, DEFAULT, False)
    with _lock:
        _cache[lg_code] = (now, found)
    return found


def alias_for(lg_code: str | None) -> str:
    """The database alias for ``lg_code``'s data (``default`` when only one cluster is configured)."""
    forced = _forced.get()
    if forced is not None:
        return forced
    if not lg_code or not getattr(settings, "TENANT_CLUSTERS", None):
        return DEFAULT
    return placement(lg_code).cluster


def tenant_connection() -> BaseDatabaseWrapper:
    """The connection of the tenant block being run (for raw SQL; the ORM is routed by itself)."""
    return connections[_current.get() or DEFAULT]


@contextmanager
def active(alias: str) -> Iterator[None]:
    """Tenant-owned models go to ``alias`` inside the block (set by bound())."""
    token = _current.set(alias)
    try:
        yield
    finally:
        _current.reset(token)


@contextmanager
def using(alias: str) -> Iterator[None]:
    """Every tenant block inside goes to ``alias``, whatever the directory says (a move reads one
    cluster and writes the other)."""
    if alias not in clusters():
        raise ValueError(f"unknown cluster {alias!r}")
    token = _forced.set(alias)
    try:
        yield
    finally:
        _forced.reset(token)


def _tenant_owned(model: type[models.Model]) -> bool:
    # Staff accounts are the platform's (sign-in happens before the tenant is known).
    if model._meta.app_label == "accounts":
        return False
    return any(getattr(f, "name", "") == "municipality" and f.concrete for f in model._meta.get_fields())


class TenantRouter:
    """Sends tenant-owned models to the cluster of the tenant block they are used in."""

    def _route(self, model: type[models.Model]) -> str | None:
        alias = _current.get()
        if alias is None or alias == DEFAULT or not _tenant_owned(model):
            return None
        return alias

    def db_for_read(self, model: type[models.Model], **hints: Any) -> str | None:
        return self._route(model)

    def db_for_write(self, model: type[models.Model], **hints: Any) -> str | None:
        return self._route(model)

    def allow_relation(self, obj1: models.Model, obj2: models.Model, **hints: Any) -> bool | None:
        return None

    def allow_migrate(self, db: str, app_label: str, model_name: str | None = None, **hints: Any) -> bool | None:
        return None  # every cluster has the whole schema


# --- the directory, for the operator ------------------------------------------------------------


def place(lg_code: str, cluster: str) -> None:
    """Record that ``lg_code``'s data lives on ``cluster`` (for a new municipality, or after a move)."""
    from lgcloud.core.models import TenantPlacement

    if cluster not in clusters():
        raise ValueError(f"unknown cluster {cluster!r}; configured: {', '.join(clusters())}")
    TenantPlacement.objects.using(DEFAULT).update_or_create(
        lg_code=lg_code, defaults={"cluster": cluster, "frozen": False}
    )
    _cache.pop(lg_code, None)


def set_frozen(lg_code: str, frozen: bool) -> None:
    from lgcloud.core.models import TenantPlacement

    current = placement(lg_code, fresh=True)
    TenantPlacement.objects.using(DEFAULT).update_or_create(
        lg_code=lg_code, defaults={"cluster": current.cluster, "frozen": frozen}
    )
    _cache.pop(lg_code, None)


def directory() -> list[Placement]:
    from lgcloud.core.models import TenantPlacement

    return [
        Placement(lg, cluster, frozen)
        for lg, cluster, frozen in TenantPlacement.objects.using(DEFAULT)
        .order_by("lg_code")
        .values_list("lg_code", "cluster", "frozen")
    ]


# --- the write freeze ---------------------------------------------------------------------------

_API_TENANT = re.compile(r"^/api/v1/municipalities/(\d{6})/")
_SAFE = {"GET", "HEAD", "OPTIONS"}


def tenant_moving() -> Problem:
    return Problem(
        503,
        "tenant_moving",
        "この団体のデータを移設中です",
        "データ基盤の移設のため、登録・更新を一時的に停止しています。しばらくしてから再度お試しください（参照はできます）。",
    )


class TenantWriteFreezeMiddleware:
    """Refuses writes (503 ``tenant_moving``) to a municipality that is being moved; reads go on."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if request.method not in _SAFE and getattr(settings, "TENANT_CLUSTERS", None):
            lg_code = self._tenant(request)
            if lg_code and placement(lg_code).frozen:
                return self._refuse(request)
        return self.get_response(request)

    @staticmethod
    def _tenant(request: HttpRequest) -> str | None:
        found = _API_TENANT.match(request.path)
        if found:
            return found.group(1)
        ctx = getattr(request, "tenant_ctx", None)
        return getattr(ctx, "lg_code", None)

    @staticmethod
    def _refuse(request: HttpRequest) -> HttpResponse:
        problem = tenant_moving()
        if request.path.startswith("/api/"):
            response: HttpResponse = JsonResponse(
                problem.body(instance=request.path),
                status=503,
                content_type=PROBLEM_CONTENT_TYPE,
                json_dumps_params={"ensure_ascii": False},
            )
        else:
            response = HttpResponse(
                f"<!doctype html><html lang=ja><title>{problem.title}</title><h1>{problem.title}</h1>"
                f"<p>{problem.detail}</p></html>",
                status=503,
                content_type="text/html; charset=utf-8",
            )
        response["Retry-After"] = "60"
        return response
