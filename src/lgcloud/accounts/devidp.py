"""開発用 OpenID Connect provider — FOR DEVELOPMENT AND TESTS ONLY, never in production.

It stands in for the Digital Agency's マイナンバーカード authentication so that ``make run`` and
the tests can sign a resident in through a real OpenID Connect authorization code flow (with
PKCE, a signed ID token, discovery and JWKS). It is built on django-oauth-toolkit's OIDC
support (oauthlib's OpenID server, DOT's grant and token storage and ID-token signing); only the
"authentication" is fake: instead of reading a card, a page asks for a 団体コード and a
宛名番号 and the provider vouches for that resident's 基本4情報 (氏名・生年月日・性別・住所),
read from the registry at the moment the token is issued.

Settings refuse it in production (``LGCLOUD_OIDC_DEV_PROVIDER`` must not be set there).

django-oauth-toolkit keeps grants and tokens against ``AUTH_USER_MODEL``. Each demo resident the
provider vouches for therefore gets a placeholder :class:`Staff` row (username
``devidp-<宛名番号>``, no role, no usable password, never signed in to a Django session): it
cannot open any staff page or API route, and it only exists on a development installation.
The provider's own settings (its client and RSA key) are separate from the linkage app's OAuth
client-credentials set-up: its views name their own validator and server classes.
"""

from __future__ import annotations

import hashlib
import hmac
from typing import Any

from django.conf import settings
from django.contrib.auth.hashers import check_password
from django.core.exceptions import ImproperlyConfigured
from django.utils import timezone
from jwcrypto import jwk
from oauth2_provider.models import get_application_model
from oauth2_provider.oauth2_validators import OAuth2Validator

from lgcloud.audit.actions import record
from lgcloud.contract import Resident
from lgcloud.core.tenancy import TenantContext, bound
from lgcloud.municipalities.queries import resident_directory

from .identifiers import make_login_id
from .models import Staff

SCOPES = {"openid": "ログイン", "profile": "氏名・生年月日・性別", "address": "住所", "email": "メールアドレス"}
_USERNAME_PREFIX = "devidp-"
_GENDER = {"1": "male", "2": "female"}


def enabled() -> bool:
    return bool(getattr(settings, "OIDC_DEV_PROVIDER", False))


def issuer() -> str:
    return f"{settings.PUBLIC_URL}/dev-idp"


def dev_client_secret() -> str:
    """The portal's client secret: ``LGCLOUD_OIDC_CLIENT_SECRET``, by default derived from the secret key."""
    return str(settings.OIDC_CLIENT_SECRET)


def _require_enabled() -> None:
    if not enabled():
        raise ImproperlyConfigured("開発用 OIDC プロバイダは無効です（LGCLOUD_OIDC_DEV_PROVIDER）。")


def ensure_dev_client() -> None:
    """The portal's client registration at the development provider, for this PUBLIC_URL."""
    _require_enabled()
    application_model = get_application_model()
    redirect = f"{settings.PUBLIC_URL}/portal/callback/"
    client_id = settings.OIDC_CLIENT_ID
    app = application_model.objects.filter(client_id=client_id).first()
    if app is not None and app.redirect_uris == redirect and check_password(dev_client_secret(), app.client_secret):
        return
    if app is None:
        app = application_model(client_id=client_id)
    app.name = "lgcloud 住民ポータル（開発用）"
    app.client_type = application_model.CLIENT_CONFIDENTIAL
    app.authorization_grant_type = application_model.GRANT_AUTHORIZATION_CODE
    app.redirect_uris = redirect
    app.algorithm = application_model.RS256_ALGORITHM
    app.skip_authorization = True
    app.client_secret = dev_client_secret()  # hashed on save
    app.save()


def signing_key() -> jwk.JWK:
    return jwk.JWK.from_pem(str(settings.OAUTH2_PROVIDER["OIDC_RSA_PRIVATE_KEY"]).encode())


def public_jwks() -> dict[str, Any]:
    key = signing_key()
    public = key.export_public(as_dict=True)
    public.update(kid=key.thumbprint(), use="sig", alg="RS256")
    return {"keys": [public]}


def discovery_document() -> dict[str, Any]:
    base = issuer()
    return {
        "issuer": base,
        "authorization_endpoint": f"{base}/authorize/",
        "token_endpoint": f"{base}/token/",
        "jwks_uri": f"{base}/jwks.json",
        "response_types_supported": ["code"],
        "grant_types_supported": ["authorization_code"],
        "subject_types_supported": ["public"],
        "id_token_signing_alg_values_supported": ["RS256"],
        "code_challenge_methods_supported": ["S256"],
        "token_endpoint_auth_methods_supported": ["client_secret_basic", "client_secret_post"],
        "scopes_supported": sorted(SCOPES),
        "claims_supported": ["sub", "name", "birthdate", "gender", "address", "email"],
    }


def _resident(ctx: TenantContext, atena_number: str) -> Resident:
    directory = resident_directory(ctx.tenant_code)
    found = directory.get(ctx, atena_number) if directory is not None else None
    if found is None:
        raise LookupError(atena_number)
    return found


def identity_for(lg_code: str, atena_number: str) -> Staff:
    """The placeholder user the provider's grants are kept against (see the module docstring).

    Refuses (LookupError) unless the person is an active resident of ``lg_code``.
    """
    _require_enabled()
    ctx = TenantContext.system(lg_code, purpose="dev_idp.sign_in", actor_name="開発用IdP")
    with bound(ctx):
        rec = _resident(ctx, atena_number)
        if not rec.active:
            raise LookupError(atena_number)
        username = f"{_USERNAME_PREFIX}{atena_number}"
        staff = Staff.objects.filter(municipality_id=lg_code, username=username).first()
        if staff is None:
            staff = Staff(
                municipality_id=lg_code,
                username=username,
                login_id=make_login_id(lg_code, username),
                display_name="開発用IdP 利用者",
                is_active=True,
            )
            staff.set_unusable_password()
            staff.save()
            record(ctx, "accounts.dev_idp.identity_created", subject_type="staff", subject_id=staff.pk)
        staff.last_login = timezone.now()
        Staff.objects.filter(pk=staff.pk).update(last_login=staff.last_login)
        return staff


def claims_for(staff: Staff) -> dict[str, Any]:
    """The 基本4情報 of the resident behind a placeholder user, as standard OIDC claims."""
    if not staff.username.startswith(_USERNAME_PREFIX) or not staff.municipality_id:
        raise ImproperlyConfigured("開発用IdP の利用者ではありません。")
    lg_code = staff.municipality_id
    atena = staff.username[len(_USERNAME_PREFIX) :]
    ctx = TenantContext.system(lg_code, purpose="dev_idp.claims", actor_name="開発用IdP")
    rec = _resident(ctx, atena)
    # A stable, provider-specific subject (like a pairwise sub): not the 宛名番号 itself.
    sub = hmac.new(settings.SECRET_KEY.encode(), f"sub:{lg_code}:{atena}".encode(), hashlib.sha256).hexdigest()[:32]
    return {
        "sub": sub,
        "name": rec.full_name.replace("\u3000", " "),
        "birthdate": rec.birth_date.isoformat(),
        "gender": _GENDER.get(rec.sex, "other"),
        "address": {"formatted": rec.address + (f" {rec.address_detail}" if rec.address_detail else "")},
    }


class DevOidcValidator(OAuth2Validator):  # type: ignore[misc]
    """django-oauth-toolkit's validator with the development provider's scopes, issuer and claims."""

    def validate_scopes(
        self, client_id: str, scopes: list[str], client: Any, request: Any, *args: Any, **kw: Any
    ) -> bool:
        return set(scopes) <= set(SCOPES)

    def get_default_scopes(self, client_id: str, request: Any, *args: Any, **kwargs: Any) -> list[str]:
        return ["openid"]

    def get_oidc_issuer_endpoint(self, request: Any) -> str:
        return issuer()

    def get_additional_claims(self, request: Any) -> dict[str, Any]:
        return claims_for(request.user)
