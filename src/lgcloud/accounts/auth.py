"""API authentication: the staff session (with CSRF) or a personal token (Authorization: Bearer …)."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest
from ninja.security import HttpBearer, SessionAuth

from lgcloud.core.tenancy import TenantContext

from .actions import staff_for_token
from .context import context_for, is_fully_signed_in


class StaffTokenAuth(HttpBearer):
    openapi_description = "個人用 API トークン（`lgcloud create_api_token` で発行）"

    def authenticate(self, request: HttpRequest, token: str) -> Any:
        return staff_for_token(token)


class StaffSessionAuth(SessionAuth):
    """The browser session; MFA-required roles must have passed the second factor."""

    def authenticate(self, request: HttpRequest, key: str | None) -> Any:
        if is_fully_signed_in(request):
            return request.user
        return None


def staff_auth() -> list[Any]:
    return [StaffTokenAuth(), StaffSessionAuth()]


def api_context(request: HttpRequest, purpose: str = "api") -> TenantContext:
    return context_for(request.auth, purpose=purpose)  # type: ignore[attr-defined]
