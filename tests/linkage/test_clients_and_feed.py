"""System clients (OAuth 2.0 client credentials), the pull feed and purpose-bound reads, through HTTP."""

from __future__ import annotations

import io
from datetime import date

import pytest
from django.core.management import call_command
from django.test import Client

from lgcloud.audit.models import AuditRecord
from lgcloud.core.permissions import Role
from lgcloud.core.tenancy import TenantContext
from lgcloud.linkage.actions import create_api_client, revoke_api_client
from lgcloud.registry import actions
from lgcloud.registry.actions import ChangeResult
from tests.conftest import StaffFactory, signed_in
from tests.linkage.conftest import CHIYODA, SHINJUKU, clerk_of, move_in_family

pytestmark = pytest.mark.django_db

BASE = f"/api/v1/municipalities/{CHIYODA}"


def token_for(client_id: str, secret: str, scope: str | None = None) -> dict:  # type: ignore[type-arg]
    data = {"grant_type": "client_credentials", "client_id": client_id, "client_secret": secret}
    if scope:
        data["scope"] = scope
    response = Client().post("/oauth/token/", data)
    return {"status": response.status_code, **response.json()}


def system(scopes: list[str], name: str = "税務システム", lg_code: str = CHIYODA) -> Client:
    issued = create_api_client(
        TenantContext.system(lg_code, purpose="test"), name=name, scopes=scopes, organisation="〇〇株式会社"
    )
    token = token_for(issued.client_id, issued.client_secret)
    assert token["status"] == 200, token
    return Client(headers={"Authorization": f"Bearer {token['access_token']}"})


def test_create_api_client_prints_working_credentials(tokyo: list[str]) -> None:
    out, err = io.StringIO(), io.StringIO()
    call_command(
        "create_api_client",
        "--municipality",
        CHIYODA,
        "--name",
        "中間サーバー",
        "--scopes",
        "events:read",
        "national.information_provision",
        stdout=out,
        stderr=err,
    )
    values = dict(line.split("=", 1) for line in out.getvalue().split())
    token = token_for(values["client_id"], values["client_secret"])
    assert token["status"] == 200
    assert token["token_type"] == "Bearer"
    assert set(token["scope"].split()) == {"events:read", "national.information_provision"}
    assert token_for(values["client_id"], "wrong-secret")["status"] == 401


def test_a_client_gets_only_the_scopes_it_was_given(tokyo: list[str]) -> None:
    issued = create_api_client(TenantContext.system(CHIYODA, purpose="test"), name="a", scopes=["events:read"])
    refused = token_for(issued.client_id, issued.client_secret, scope="events:read tax.resident_tax")
    assert refused["status"] == 400
    assert refused["error"] == "invalid_scope"
    narrowed = token_for(issued.client_id, issued.client_secret, scope="events:read")
    assert narrowed["status"] == 200


def test_unknown_scopes_are_refused_when_creating_a_client(tokyo: list[str]) -> None:
    from django.core.exceptions import ValidationError

    with pytest.raises(ValidationError, match="定められていないスコープ"):
        create_api_client(TenantContext.system(CHIYODA, purpose="test"), name="x", scopes=["registry.everything"])


def test_the_feed_is_ordered_gap_free_and_replayable(tokyo: list[str]) -> None:
    clerk = clerk_of(CHIYODA)
    move_in_family(clerk)
    move_in_family(clerk_of(SHINJUKU))  # another municipality's events never appear
    second = actions.register_move_in(
        clerk,
        persons=[
            __import__("tests.registry.conftest", fromlist=["person"]).person(family="佐藤", kana=("サトウ", "タロウ"))
        ],
        address="東京都千代田区一番町1",
        effective_date=date(2024, 5, 1),
        filed_on=date(2024, 5, 1),
        previous_address="",
    )
    api = system(["events:read"])
    seen: list[dict] = []  # type: ignore[type-arg]
    cursor = 0
    while True:
        page = api.get(f"{BASE}/events", {"after": cursor, "limit": 2})
        assert page.status_code == 200, page.content
        body = page.json()
        seen += body["events"]
        if not body["has_more"]:
            assert body["next_cursor"] == seen[-1]["sequence"]
            break
        cursor = body["next_cursor"]
    assert [e["sequence"] for e in seen] == list(range(1, 6))
    assert {e["municipality"] for e in seen} == {CHIYODA}
    assert seen[3]["subject"] == {"type": "person", "id": second.atena_numbers[0]}
    # Replay from any cursor gives exactly the same events.
    replay = api.get(f"{BASE}/events", {"after": 2, "limit": 100}).json()["events"]
    assert replay == seen[2:]
    # Past the end: nothing, and the cursor stays.
    empty = api.get(f"{BASE}/events", {"after": 5}).json()
    assert empty == {"events": [], "next_cursor": 5, "has_more": False}
    only_households = api.get(f"{BASE}/events", {"type": "registry.household"}).json()
    assert [e["type"] for e in only_households["events"]] == ["registry.household.changed"] * 2
    assert only_households["next_cursor"] == 5


def test_the_feed_needs_the_scope_and_the_own_municipality(tokyo: list[str], make_staff: StaffFactory) -> None:
    move_in_family(clerk_of(CHIYODA))
    without = system(["tax.resident_tax"])
    denied = without.get(f"{BASE}/events")
    assert denied.status_code == 403
    assert denied["Content-Type"] == "application/problem+json"
    other = system(["events:read"], lg_code=SHINJUKU)
    assert other.get(f"{BASE}/events").status_code == 404
    assert Client().get(f"{BASE}/events").status_code == 401
    counter = signed_in(Client(), make_staff(CHIYODA, "madoguchi", Role.COUNTER))
    assert counter.get(f"{BASE}/events").status_code == 403
    admin = signed_in(Client(), make_staff(CHIYODA, "kanri", Role.MUNICIPAL_ADMIN))
    assert admin.get(f"{BASE}/events").json()["next_cursor"] == 3


def test_a_purpose_returns_only_its_items_and_is_audited(tokyo: list[str]) -> None:
    family = move_in_family(clerk_of(CHIYODA))
    head = family.atena_numbers[0]
    api = system(["national.information_provision"], name="中間サーバー")
    response = api.get(f"{BASE}/linkage/persons/{head}", {"purpose": "national.information_provision"})
    assert response.status_code == 200, response.content
    body = response.json()
    assert set(body["items"]) == {
        "atena_number",
        "family_name",
        "given_name",
        "birth_date",
        "sex",
        "household_number",
        "relationship",
        "is_household_head",
        "address",
        "status",
    }
    assert body["items"]["family_name"] == "山田"
    assert "番号法 第19条第8号" in body["purpose"]["legal_basis"]
    assert "kana" not in str(body["items"]) and "resident_code" not in body["items"]
    row = AuditRecord.objects.filter(municipality_id=CHIYODA, action="linkage.person.read").get()
    assert (row.subject_id, row.purpose) == (head, "national.information_provision")
    assert "中間サーバー" in row.actor_name
    assert row.fields == sorted(body["items"])


def test_a_wrong_purpose_is_refused_with_the_reason(tokyo: list[str]) -> None:
    family = move_in_family(clerk_of(CHIYODA))
    head = family.atena_numbers[0]
    api = system(["tax.resident_tax"])
    wrong = api.get(f"{BASE}/linkage/persons/{head}", {"purpose": "benefits.child_allowance"})
    assert wrong.status_code == 403
    assert wrong["Content-Type"] == "application/problem+json"
    problem = wrong.json()
    assert problem["code"] == "purpose_not_granted"
    assert "児童手当の支給" in problem["detail"] and "児童手当法" in problem["detail"]
    assert "tax.resident_tax" in problem["detail"]
    unknown = api.get(f"{BASE}/linkage/persons/{head}", {"purpose": "marketing"}).json()
    assert unknown["code"] == "unknown_purpose"
    assert not AuditRecord.objects.filter(action="linkage.person.read").exists()
    # The right purpose works for the same client.
    assert api.get(f"{BASE}/linkage/persons/{head}", {"purpose": "tax.resident_tax"}).status_code == 200


def test_staff_tokens_and_revoked_clients_cannot_use_the_purpose_api(
    tokyo: list[str], make_staff: StaffFactory
) -> None:
    family = move_in_family(clerk_of(CHIYODA))
    clerk = signed_in(Client(), make_staff(CHIYODA, "juki", Role.REGISTRY_CLERK))
    url = f"{BASE}/linkage/persons/{family.atena_numbers[0]}"
    assert clerk.get(url, {"purpose": "tax.resident_tax"}).status_code == 401
    api = system(["tax.resident_tax"], name="vendor")
    assert api.get(url, {"purpose": "tax.resident_tax"}).status_code == 200
    revoke_api_client(TenantContext.system(CHIYODA, purpose="test"), name="vendor")
    assert api.get(url, {"purpose": "tax.resident_tax"}).status_code == 401


def test_staff_session_and_personal_tokens_still_work(tokyo: list[str], make_staff: StaffFactory) -> None:
    from lgcloud.accounts.actions import create_api_token

    staff = make_staff(CHIYODA, "juki", Role.REGISTRY_CLERK)
    family: ChangeResult = move_in_family(clerk_of(CHIYODA))
    raw = create_api_token(TenantContext.system(CHIYODA, purpose="test"), staff.pk, name="t").raw
    by_token = Client(headers={"Authorization": f"Bearer {raw}"}).get(f"{BASE}/persons/{family.atena_numbers[0]}")
    assert by_token.status_code == 200
    by_session = signed_in(Client(), staff).get(f"{BASE}/persons/{family.atena_numbers[0]}")
    assert by_session.status_code == 200
