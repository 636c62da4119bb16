"""Residents' sign-in: an OpenID Connect relying party (authorization code flow with PKCE).

Any standards-compliant provider works: the endpoints and keys come from its discovery
document (``<issuer>/.well-known/openid-configuration``). In production the provider is
the Digital Agency's マイナンバーカード authentication; for ``make run`` and the tests it is
the development provider in :mod:`lgcloud.accounts.devidp`.

What is checked on the way back (OpenID Connect Core 1.0 §3.1.3.7):

- ``state`` equals the one stored in the session at the start (CSRF of the callback);
- the code is exchanged at the token endpoint with the PKCE ``code_verifier`` (RFC 7636, S256)
  and the client's credentials;
- the ID token's signature verifies with a key from the provider's JWKS (RS256/ES256/PS256 only;
  ``none`` and HMAC are refused), ``iss`` equals the discovered issuer, ``aud`` contains our
  client id (and ``azp`` is ours when there are several audiences), ``exp`` is in the future,
  ``iat`` not in the future, and ``nonce`` equals the one stored at the start.

No personal data is logged: the claims are returned to the caller, never written anywhere here.
"""

from __future__ import annotations

import base64
import hashlib
import json
import secrets
import time
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

import httpx
from django.conf import settings
from django.core.cache import cache
from jwcrypto import jwk, jws
from jwcrypto.common import JWException

ALLOWED_ALGORITHMS = ("RS256", "ES256", "PS256")
CLOCK_SKEW_SECONDS = 60
HTTP_TIMEOUT_SECONDS = 10.0
PENDING_TTL_SECONDS = 600


class OidcError(Exception):
    """Sign-in could not be completed. The message is Japanese and safe to show (no personal data)."""


@dataclass(frozen=True)
class ProviderConfig:
    issuer: str
    client_id: str
    client_secret: str
    scopes: str
    redirect_uri: str


@dataclass(frozen=True)
class Discovery:
    issuer: str
    authorization_endpoint: str
    token_endpoint: str
    jwks_uri: str


@dataclass(frozen=True)
class PendingSignIn:
    """What the start of a sign-in leaves in the session, to check the callback against."""

    state: str
    nonce: str
    code_verifier: str
    lg_code: str
    started_at: float

    def to_json(self) -> dict[str, Any]:
        return dict(vars(self))


def provider_config() -> ProviderConfig:
    """The provider this installation uses (``LGCLOUD_OIDC_*``; see docs/operations.md)."""
    issuer = settings.OIDC_ISSUER
    if not issuer or not settings.OIDC_CLIENT_ID:
        raise OidcError("住民向けログインが設定されていません（LGCLOUD_OIDC_ISSUER / LGCLOUD_OIDC_CLIENT_ID）。")
    return ProviderConfig(
        issuer=issuer.rstrip("/"),
        client_id=settings.OIDC_CLIENT_ID,
        client_secret=settings.OIDC_CLIENT_SECRET,
        scopes=settings.OIDC_SCOPES,
        redirect_uri=f"{settings.PUBLIC_URL}/portal/callback/",
    )


def _get_json(url: str) -> dict[str, Any]:
    try:
        response = httpx.get(url, timeout=HTTP_TIMEOUT_SECONDS, follow_redirects=False)
        response.raise_for_status()
        data = response.json()
    except (httpx.HTTPError, ValueError) as exc:
        raise OidcError("認証サービスに接続できませんでした。しばらくしてからもう一度お試しください。") from exc
    if not isinstance(data, dict):
        raise OidcError("認証サービスの応答が不正です。")
    return data


def discover(config: ProviderConfig) -> Discovery:
    """The provider's endpoints from its discovery document (cached for 10 minutes)."""
    key = "lgcloud.oidc.discovery:" + hashlib.sha256(config.issuer.encode()).hexdigest()
    data = cache.get(key)
    if data is None:
        data = _get_json(f"{config.issuer}/.well-known/openid-configuration")
        cache.set(key, data, 600)
    try:
        found = Discovery(
            issuer=str(data["issuer"]).rstrip("/"),
            authorization_endpoint=str(data["authorization_endpoint"]),
            token_endpoint=str(data["token_endpoint"]),
            jwks_uri=str(data["jwks_uri"]),
        )
    except KeyError as exc:
        raise OidcError("認証サービスの設定情報（discovery）が不完全です。") from exc
    # Discovery §4.3: the issuer in the document must be the one we asked for (mix-up defence).
    if found.issuer != config.issuer:
        raise OidcError("認証サービスの発行者（issuer）が設定と一致しません。")
    return found


def _s256(verifier: str) -> str:
    return base64.urlsafe_b64encode(hashlib.sha256(verifier.encode("ascii")).digest()).rstrip(b"=").decode()


def begin(config: ProviderConfig, lg_code: str) -> tuple[str, PendingSignIn]:
    """The provider's authorization URL and what to keep in the session until the callback."""
    discovery = discover(config)
    pending = PendingSignIn(
        state=secrets.token_urlsafe(32),
        nonce=secrets.token_urlsafe(32),
        code_verifier=secrets.token_urlsafe(64),
        lg_code=lg_code,
        started_at=time.time(),
    )
    query = urlencode(
        {
            "response_type": "code",
            "client_id": config.client_id,
            "redirect_uri": config.redirect_uri,
            "scope": config.scopes,
            "state": pending.state,
            "nonce": pending.nonce,
            "code_challenge": _s256(pending.code_verifier),
            "code_challenge_method": "S256",
        }
    )
    sep = "&" if "?" in discovery.authorization_endpoint else "?"
    return f"{discovery.authorization_endpoint}{sep}{query}", pending


def pending_from_session(data: Any) -> PendingSignIn:
    if not isinstance(data, dict):
        raise OidcError("ログインの手続が見つかりません。最初からやり直してください。")
    try:
        pending = PendingSignIn(**data)
    except TypeError as exc:
        raise OidcError("ログインの手続が見つかりません。最初からやり直してください。") from exc
    if time.time() - pending.started_at > PENDING_TTL_SECONDS:
        raise OidcError("ログインの有効時間が過ぎました。最初からやり直してください。")
    return pending


def complete(config: ProviderConfig, pending: PendingSignIn, *, state: str, code: str) -> dict[str, Any]:
    """Exchange the code and return the verified ID token's claims."""
    if not secrets.compare_digest(state, pending.state):
        raise OidcError("ログインの手続が一致しません（state）。最初からやり直してください。")
    if not code:
        raise OidcError("認証サービスから認可コードが返されませんでした。")
    discovery = discover(config)
    try:
        response = httpx.post(
            discovery.token_endpoint,
            data={
                "grant_type": "authorization_code",
                "code": code,
                "redirect_uri": config.redirect_uri,
                "code_verifier": pending.code_verifier,
            },
            auth=(config.client_id, config.client_secret),
            timeout=HTTP_TIMEOUT_SECONDS,
        )
    except httpx.HTTPError as exc:
        raise OidcError("認証サービスに接続できませんでした。しばらくしてからもう一度お試しください。") from exc
    if response.status_code != 200:
        raise OidcError("認証サービスがログインを受け付けませんでした。最初からやり直してください。")
    try:
        id_token = str(response.json()["id_token"])
    except (ValueError, KeyError, TypeError) as exc:
        raise OidcError("認証サービスの応答に ID トークンがありません。") from exc
    jwks = _get_json(discovery.jwks_uri)
    return validate_id_token(
        id_token,
        jwks=jwks,
        issuer=discovery.issuer,
        client_id=config.client_id,
        nonce=pending.nonce,
        now=time.time(),
    )


def validate_id_token(
    token: str, *, jwks: dict[str, Any], issuer: str, client_id: str, nonce: str, now: float
) -> dict[str, Any]:
    """Verify an ID token's signature and claims; return the claims or raise :class:`OidcError`."""
    try:
        signed = jws.JWS()
        signed.deserialize(token)
        header = signed.jose_header
        if not isinstance(header, dict):
            raise OidcError("ID トークンの形式が不正です。")
        alg = header.get("alg")
        if alg not in ALLOWED_ALGORITHMS:
            raise OidcError("ID トークンの署名方式が許可されていません。")
        keyset = jwk.JWKSet()
        keyset.import_keyset(json.dumps(jwks))
        kid = header.get("kid")
        candidates = [k for k in keyset if kid is None or k.get("kid") == kid] or list(keyset)
        for key in candidates:
            try:
                signed.verify(key, alg=alg)
                break
            except JWException:
                continue
        else:
            raise OidcError("ID トークンの署名を検証できませんでした。")
        claims = json.loads(signed.payload)
    except OidcError:
        raise
    except (JWException, ValueError, TypeError) as exc:
        raise OidcError("ID トークンの形式が不正です。") from exc
    if not isinstance(claims, dict):
        raise OidcError("ID トークンの形式が不正です。")
    if str(claims.get("iss", "")).rstrip("/") != issuer.rstrip("/"):
        raise OidcError("ID トークンの発行者（iss）が一致しません。")
    aud = claims.get("aud")
    audiences = aud if isinstance(aud, list) else [aud]
    if client_id not in audiences:
        raise OidcError("ID トークンの宛先（aud）が一致しません。")
    if len(audiences) > 1 and claims.get("azp") != client_id:
        raise OidcError("ID トークンの宛先（azp）が一致しません。")
    exp = claims.get("exp")
    if not isinstance(exp, int | float) or exp + CLOCK_SKEW_SECONDS < now:
        raise OidcError("ID トークンの有効期限が切れています。もう一度ログインしてください。")
    iat = claims.get("iat")
    if isinstance(iat, int | float) and iat - CLOCK_SKEW_SECONDS > now:
        raise OidcError("ID トークンの発行時刻が不正です。")
    if not isinstance(claims.get("nonce"), str) or not secrets.compare_digest(claims["nonce"], nonce):
        raise OidcError("ID トークンの nonce が一致しません。最初からやり直してください。")
    if not claims.get("sub"):
        raise OidcError("ID トークンに利用者識別子（sub）がありません。")
    return claims
