"""API authentication of other systems: an OAuth 2.0 access token (client credentials).

Staff keep their own ways in (session, personal token: accounts/auth.py); routes that
both may use list both. ``request.auth`` is then a :class:`ClientPrincipal` or a Staff.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from typing import Any

from django.http import HttpRequest
from ninja.security import HttpBearer
from oauth2_provider.models import get_access_token_model

from lgcloud.accounts.auth import StaffSessionAuth, StaffTokenAuth, api_context
from lgcloud.core.middleware import current_request_id
from lgcloud.core.permissions import PlatformPermission
from lgcloud.core.tenancy import TenantContext, platform_scope

from .models import ApiClient
from .parameters import EVENTS_SCOPE


def permissions_for_scopes(scopes: frozenset[str]) -> frozenset[str]:
    """``events:read`` → ``linkage:events:read``; purposes stay scopes of the context (``ctx.scopes``).

    Never empty (an empty set would make TenantContext fall back to role permissions).
    """
    granted = {PlatformPermission.CLIENT_AUTHENTICATED}
    if EVENTS_SCOPE in scopes:
        granted.add(PlatformPermission.EVENTS_READ)
    return frozenset(granted)


@dataclass(frozen=True)
class ClientPrincipal:
    """An authenticated system: its municipality, name and the scopes of this token."""

    lg_code: str
    client_pk: int
    client_id: str
    name: str
    organisation: str
    scopes: frozenset[str]

    @property
    def display(self) -> str:
        return f"{self.name}（{self.organisation}）" if self.organisation else self.name

    def context(self, purpose: str) -> TenantContext:
        """A context acting for this client, whose permissions are exactly its token's scopes."""
        return TenantContext(
            lg_code=self.lg_code,
            actor_id=None,
            actor_name=f"API クライアント {self.display} [{self.client_id}]",
            roles=frozenset(),
            purpose=purpose,
            request_id=current_request_id(),
            permissions=permissions_for_scopes(self.scopes),
            scopes=frozenset(s for s in self.scopes if s != EVENTS_SCOPE),
        )


def client_for_token(raw: str) -> ClientPrincipal | None:
    token = (
        get_access_token_model()
        .objects.select_related("application")
        .filter(token_checksum=hashlib.sha256(raw.encode("utf-8")).hexdigest())
        .first()
    )
    if token is None or token.is_expired() or token.application is None:
        return None
    with platform_scope():
        client = ApiClient.objects.filter(application_id=token.application_id, revoked_at__isnull=True).first()
        if client is None:
            return None
        principal = ClientPrincipal(
            lg_code=client.municipality_id,
            client_pk=client.pk,
            client_id=token.application.client_id,
            name=client.name,
            organisation=client.organisation,
            scopes=frozenset(token.scope.split()) & frozenset(client.scopes),
        )
    return principal


class ClientTokenAuth(HttpBearer):
    openapi_description = "OAuth 2.0 クライアントクレデンシャルで得たアクセストークン（/oauth/token/）"

    def authenticate(self, request: HttpRequest, token: str) -> Any:
        return client_for_token(token)


def client_auth() -> list[Any]:
    return [ClientTokenAuth()]


def client_or_staff_auth() -> list[Any]:
    return [ClientTokenAuth(), StaffTokenAuth(), StaffSessionAuth()]


def caller(request: HttpRequest) -> ClientPrincipal | None:
    auth = getattr(request, "auth", None)
    return auth if isinstance(auth, ClientPrincipal) else None


def staff_context(request: HttpRequest, purpose: str) -> TenantContext:
    return api_context(request, purpose=purpose)
