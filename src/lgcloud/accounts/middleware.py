"""Attach the staff TenantContext to each request, and hold MFA-required users at the second factor."""

from __future__ import annotations

from collections.abc import Callable

from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.urls import reverse

from lgcloud.core.middleware import set_current_municipality

from .context import context_for, is_fully_signed_in, requires_mfa

# Paths a signed-in user may reach before passing the second factor.
_OPEN_PREFIXES = ("/login/", "/logout/", "/static/", "/healthz", "/metrics", "/api/")


class StaffContextMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        request.tenant_ctx = None  # type: ignore[attr-defined]
        user = request.user
        if user.is_authenticated:
            if requires_mfa(user) and not is_fully_signed_in(request):
                if not request.path.startswith(_OPEN_PREFIXES):
                    return HttpResponseRedirect(reverse("web:login_mfa"))
            else:
                request.tenant_ctx = context_for(user)  # type: ignore[attr-defined]
                set_current_municipality(request.tenant_ctx.lg_code)  # type: ignore[attr-defined]
        return self.get_response(request)
