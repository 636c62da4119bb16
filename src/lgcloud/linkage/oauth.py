"""django-oauth-toolkit, fitted to lgcloud: client credentials only, scopes from the data map.

A client may ask only for the scopes it was given (``ApiClient.scopes``); a revoked
client gets no token. The look-ups run in ``platform_scope()``: the client, not the
request, decides the municipality (as the personal API token does for staff).
"""

from __future__ import annotations

from typing import Any

from oauth2_provider.oauth2_validators import OAuth2Validator
from oauth2_provider.scopes import BaseScopes

from lgcloud.core.tenancy import platform_scope

from .models import ApiClient
from .parameters import all_scopes


def granted_scopes(application: Any) -> list[str]:
    """The scopes of the active client behind a django-oauth-toolkit Application (none if revoked)."""
    if application is None:
        return []
    with platform_scope():
        client = ApiClient.objects.filter(application_id=application.pk, revoked_at__isnull=True).first()
        scopes = list(client.scopes) if client is not None else []
    known = all_scopes()
    return [s for s in scopes if s in known]


class DataMapScopes(BaseScopes):  # type: ignore[misc]  # the toolkit ships no type hints
    def get_all_scopes(self) -> dict[str, str]:
        return all_scopes()

    def get_available_scopes(
        self, application: Any = None, request: Any = None, *args: Any, **kwargs: Any
    ) -> list[str]:
        return granted_scopes(application)

    def get_default_scopes(self, application: Any = None, request: Any = None, *args: Any, **kwargs: Any) -> list[str]:
        return granted_scopes(application)


class ClientValidator(OAuth2Validator):  # type: ignore[misc]  # the toolkit ships no type hints
    def authenticate_client(self, request: Any, *args: Any, **kwargs: Any) -> bool:
        if not super().authenticate_client(request, *args, **kwargs):
            return False
        # A revoked client keeps its Application row (audit trail) but gets no new token.
        return bool(granted_scopes(request.client))
