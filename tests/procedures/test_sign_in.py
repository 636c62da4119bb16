"""Residents' OpenID Connect sign-in: the whole code flow over real HTTP, and every ID-token check."""

from __future__ import annotations

import json
import re
import time
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest
from django.test import Client
from jwcrypto import jwk, jwt

from lgcloud.accounts import oidc
from lgcloud.accounts.models import ResidentAccount
from lgcloud.core.tenancy import TenantContext
from lgcloud.municipalities.actions import update_municipality
from lgcloud.procedures.actions import publish_definitions
from tests.conftest import CHIYODA

from .conftest import household

ISSUER = "https://idp.example.jp"
CLIENT = "portal"


def _flow(client: Client, live_url: str, atena: str) -> Any:
    start = client.get(f"/portal/{CHIYODA}/login/")
    assert start.status_code == 302
    authorize = start["Location"]
    assert authorize.startswith(f"{live_url}/dev-idp/authorize/")
    query = parse_qs(urlsplit(authorize).query)
    assert query["code_challenge_method"] == ["S256"] and query["nonce"] and query["state"]
    with httpx.Client(follow_redirects=False) as browser:  # the resident's browser at the provider
        page = browser.get(authorize)
        assert page.status_code == 200 and "開発用" in page.text
        token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page.text)
        assert token is not None
        answer = browser.post(
            authorize,
            data={"csrfmiddlewaretoken": token.group(1), "lg_code": CHIYODA, "atena_number": atena},
            headers={"Referer": authorize},
        )
    assert answer.status_code == 302, answer.text[:500]
    back = urlsplit(answer.headers["location"])
    assert back.path == "/portal/callback/"
    return client.get(f"/portal/callback/?{back.query}")


@pytest.mark.django_db(transaction=True)
def test_a_resident_signs_in_through_the_development_provider(live_server: Any, settings: Any) -> None:
    settings.PUBLIC_URL = live_server.url
    settings.OIDC_ISSUER = f"{live_server.url}/dev-idp"
    from lgcloud.municipalities.actions import load_municipalities, shipped_rows

    load_municipalities(TenantContext.system(None, "test"), [r for r in shipped_rows() if r["lg_code"] == CHIYODA])
    update_municipality(TenantContext.system(None, "test"), CHIYODA, on_platform=True)
    publish_definitions(TenantContext.system(None, "test"))
    atena = household(CHIYODA)[0]

    client = Client()
    done = _flow(client, live_server.url, atena)
    assert done.status_code == 302 and done["Location"] == f"/portal/{CHIYODA}/"
    account = ResidentAccount.objects.get(municipality_id=CHIYODA)
    assert account.atena_number == atena and account.issuer == f"{live_server.url}/dev-idp"
    assert account.subject != atena  # the provider's own identifier, not the 宛名番号
    home = client.get(f"/portal/{CHIYODA}/").content.decode()
    assert "山田　太郎 さん" in home and "ログアウト" in home

    # The same identity signs in again to the same account; replaying the callback fails (state is used up).
    again = Client()
    assert _flow(again, live_server.url, atena).status_code == 302
    assert ResidentAccount.objects.filter(municipality_id=CHIYODA).count() == 1
    assert again.get("/portal/callback/?state=x&code=y").status_code == 400


@pytest.fixture(scope="module")
def keys() -> tuple[jwk.JWK, jwk.JWK]:
    return jwk.JWK.generate(kty="RSA", size=2048, kid="good"), jwk.JWK.generate(kty="RSA", size=2048, kid="good")


def _token(key: jwk.JWK, alg: str = "RS256", **claims: Any) -> str:
    now = int(time.time())
    body = {"iss": ISSUER, "aud": CLIENT, "sub": "abc", "nonce": "n-1", "iat": now, "exp": now + 300} | claims
    body = {k: v for k, v in body.items() if v is not None}
    t = jwt.JWT(header={"alg": alg, "kid": key.get("kid")}, claims=json.dumps(body))
    t.make_signed_token(key)
    return str(t.serialize())


def _check(token: str, good: jwk.JWK) -> dict[str, Any]:
    jwks = {"keys": [json.loads(good.export_public())]}
    return oidc.validate_id_token(token, jwks=jwks, issuer=ISSUER, client_id=CLIENT, nonce="n-1", now=time.time())


def test_a_valid_id_token_passes(keys: tuple[jwk.JWK, jwk.JWK]) -> None:
    good, _ = keys
    assert _check(_token(good), good)["sub"] == "abc"


@pytest.mark.parametrize(
    ("claims", "message"),
    [
        ({"iss": "https://evil.example"}, "iss"),
        ({"aud": "someone-else"}, "aud"),
        ({"aud": ["someone-else", CLIENT]}, "azp"),
        ({"exp": int(time.time()) - 3600}, "有効期限"),
        ({"nonce": "replayed"}, "nonce"),
        ({"nonce": None}, "nonce"),
        ({"iat": int(time.time()) + 3600}, "発行時刻"),
    ],
)
def test_id_token_claims_are_checked(keys: tuple[jwk.JWK, jwk.JWK], claims: dict[str, Any], message: str) -> None:
    good, _ = keys
    with pytest.raises(oidc.OidcError, match=message):
        _check(_token(good, **claims), good)


def test_a_token_signed_by_another_key_or_unsigned_is_refused(keys: tuple[jwk.JWK, jwk.JWK]) -> None:
    good, forged = keys  # same kid, different key
    with pytest.raises(oidc.OidcError, match="署名"):
        _check(_token(forged), good)
    header, payload, _sig = _token(good).split(".")
    with pytest.raises(oidc.OidcError):
        _check(f"{header}.{payload}.", good)
    hmac_key = jwk.JWK.generate(kty="oct", size=256, kid="good")
    with pytest.raises(oidc.OidcError, match="署名方式"):
        _check(_token(hmac_key, alg="HS256"), good)
