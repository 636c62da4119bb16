from __future__ import annotations

from typing import Any

from django.http import HttpRequest


def staff_context(request: HttpRequest) -> dict[str, Any]:
    ctx = getattr(request, "tenant_ctx", None)
    return {"tenant_ctx": ctx, "perms_": ctx.permissions if ctx else frozenset()}
