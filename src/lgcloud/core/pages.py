"""Shared guard of staff pages."""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any

from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.urls import reverse

from lgcloud.core.permissions import Permission
from lgcloud.core.tenancy import TenantContext

View = Callable[..., HttpResponse]


def staff_page(permission: Permission) -> Callable[[View], View]:
    """Signed in (past MFA where required) and holding ``permission``; else the login page or 403.

    The staff middleware (accounts) sets ``request.tenant_ctx`` only for a member of
    staff who is fully signed in, so its presence is the sign-in check. The view
    receives the context as its second argument.
    """

    def decorator(view: View) -> View:
        @wraps(view)
        def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
            ctx: TenantContext | None = getattr(request, "tenant_ctx", None)
            if ctx is None:
                return redirect(f"{reverse('web:login')}?next={request.path}")
            if not ctx.has(permission):
                raise PermissionDenied
            return view(request, ctx, *args, **kwargs)

        return wrapper

    return decorator
