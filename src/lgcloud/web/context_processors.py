from __future__ import annotations

from typing import Any

from django.http import HttpRequest
from django.utils.functional import SimpleLazyObject

from .navigation import menu


def staff_context(request: HttpRequest) -> dict[str, Any]:
    ctx = getattr(request, "tenant_ctx", None)
    return {
        "tenant_ctx": ctx,
        "perms_": ctx.permissions if ctx else frozenset(),
        # The platform's pages and the menus of the apps the municipality uses, as ctx may open them.
        "nav": SimpleLazyObject(lambda: menu(ctx)) if ctx else [],
    }
