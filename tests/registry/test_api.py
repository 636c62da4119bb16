"""The registry API: the caller's municipality only, problem+json, audited reads."""

from __future__ import annotations

import pytest
from django.test import Client

from lgcloud.audit.models import AuditRecord
from lgcloud.core.permissions import Role
from tests.conftest import StaffFactory, signed_in

pytestmark = pytest.mark.django_db

BASE = "/api/v1/municipalities/131016"

MOVE_IN = {
    "persons": [
        {
            "family_name": "𠮷田",
            "given_name": "太郎",
            "family_name_kana": "ﾖｼﾀﾞ",
            "given_name_kana": "ﾀﾛｳ",
            "birth_date": "1980-04-01",
            "sex": "1",
            "relationship": "head",
            "individual_number": "621498320257",
        },
        {
            "family_name": "𠮷田",
            "given_name": "花子",
            "family_name_kana": "ヨシダ",
            "given_name_kana": "ハナコ",
            "birth_date": "1982-05-05",
            "sex": "2",
            "relationship": "wife",
        },
    ],
    "address": "東京都千代田区霞が関一丁目1番1号",
    "effective_date": "2025-04-01",
    "filed_on": "2025-04-03",
    "previous_address": "大阪府大阪市北区梅田一丁目1番1号",
}


@pytest.fixture
def clerk_client(make_staff: StaffFactory) -> Client:
    return signed_in(Client(), make_staff("131016", "juki", Role.REGISTRY_CLERK))


def test_move_in_then_read_search_history_and_household(clerk_client: Client) -> None:
    created = clerk_client.post(f"{BASE}/changes/move-in", MOVE_IN, content_type="application/json")
    assert created.status_code == 201, created.content
    body = created.json()
    head, wife = body["atena_numbers"]
    assert "621498320257" not in created.content.decode()
    person = clerk_client.get(f"{BASE}/persons/{head}").json()
    assert (person["family_name"], person["family_name_kana"], person["is_household_head"]) == ("𠮷田", "ヨシダ", True)
    assert "individual_number" not in person
    found = clerk_client.get(f"{BASE}/persons", {"name": "吉田"}).json()["results"]
    assert {r["atena_number"] for r in found} == {head, wife}
    history = clerk_client.get(f"{BASE}/persons/{wife}/history").json()
    assert [h["change_type"] for h in history] == ["move_in"]
    members = clerk_client.get(f"{BASE}/households/{body['household_numbers'][0]}").json()
    assert [m["atena_number"] for m in members] == [head, wife]
    assert clerk_client.get(f"{BASE}/persons/{head}/as-of/2025-03-31").status_code == 404
    assert AuditRecord.objects.filter(action="registry.person.viewed", subject_id=head).exists()
    revealed = clerk_client.post(
        f"{BASE}/persons/{head}/individual-number/reveal",
        {"purpose": "個人住民税の賦課"},
        content_type="application/json",
    )
    assert revealed.json() == {"individual_number": "621498320257"}
    audit = AuditRecord.objects.get(action="registry.person.individual_number_revealed")
    assert audit.purpose == "個人住民税の賦課"


def test_rules_answer_problem_json_in_japanese(clerk_client: Client) -> None:
    head = clerk_client.post(f"{BASE}/changes/move-in", MOVE_IN, content_type="application/json").json()[
        "atena_numbers"
    ][0]
    response = clerk_client.post(
        f"{BASE}/changes/death",
        {"atena_number": head, "effective_date": "2026-01-01", "filed_on": "2026-01-02"},
        content_type="application/json",
    )
    assert response.status_code == 422
    assert response.json()["code"] == "validation_error"
    assert "世帯主がいなくなります" in response.json()["errors"][0]["message"]
    duplicate = clerk_client.post(f"{BASE}/changes/move-in", MOVE_IN, content_type="application/json")
    assert duplicate.status_code == 409
    assert duplicate.json()["code"] == "possible_duplicate"
    confirmed = clerk_client.post(
        f"{BASE}/changes/move-in", {**MOVE_IN, "confirm_duplicates": True}, content_type="application/json"
    )
    assert confirmed.status_code == 201


def test_another_municipality_in_the_path_is_404(clerk_client: Client, make_staff: StaffFactory) -> None:
    head = clerk_client.post(f"{BASE}/changes/move-in", MOVE_IN, content_type="application/json").json()[
        "atena_numbers"
    ][0]
    shinjuku = signed_in(Client(), make_staff("131041", "juki", Role.REGISTRY_CLERK))
    assert shinjuku.get(f"{BASE}/persons/{head}").status_code == 404
    assert shinjuku.get(f"/api/v1/municipalities/131041/persons/{head}").status_code == 404
    assert shinjuku.post(f"{BASE}/changes/move-in", MOVE_IN, content_type="application/json").status_code == 404


def test_read_only_roles_cannot_register_changes(make_staff: StaffFactory) -> None:
    counter = signed_in(Client(), make_staff("131016", "madoguchi", Role.COUNTER))
    response = counter.post(f"{BASE}/changes/move-in", MOVE_IN, content_type="application/json")
    assert response.status_code == 403
    tax = signed_in(Client(), make_staff("131016", "zeimu", Role.TAX_CLERK))
    assert (
        tax.post(
            f"{BASE}/persons/0000000001/individual-number/reveal", {"purpose": "x"}, content_type="application/json"
        ).status_code
        == 403
    )


def test_an_empty_search_is_refused(clerk_client: Client) -> None:
    response = clerk_client.get(f"{BASE}/persons")
    assert response.status_code == 422
    assert "検索条件" in response.json()["errors"][0]["message"]


def test_the_openapi_document_lists_the_registry(client: Client) -> None:
    # The implementation's own document (the platform's /api/v1/openapi.json holds the platform's routes).
    paths = client.get("/api/v1/apps/lgcloud-registry/openapi.json").json()["paths"]
    for path in (
        "persons",
        "persons/{atena_number}",
        "persons/{atena_number}/history",
        "changes/move-in",
        "changes/correction",
        "households/{household_number}",
    ):
        assert f"/api/v1/municipalities/{{lg_code}}/{path}" in paths


def test_certificates_are_issued_as_pdf_and_can_be_revoked(clerk_client: Client, client: Client) -> None:
    head, wife = clerk_client.post(f"{BASE}/changes/move-in", MOVE_IN, content_type="application/json").json()[
        "atena_numbers"
    ]
    response = clerk_client.post(
        f"{BASE}/certificates",
        {"kind": "household", "atena_numbers": [head, wife], "requester": {"name": "𠮷田 太郎", "atena_number": head}},
        content_type="application/json",
    )
    assert response.status_code == 200, response.content
    assert response["Content-Type"] == "application/pdf"
    assert response.content.startswith(b"%PDF")
    code = response["X-Verification-Code"]
    assert "有効" in client.get(f"/verify/{code}/").content.decode()
    number = response["X-Issue-Number"]
    revoked = clerk_client.post(
        f"{BASE}/certificates/{number}/revocation", {"reason": "誤交付"}, content_type="application/json"
    )
    assert revoked.status_code == 204
    assert "失効" in client.get(f"/verify/{code}/").content.decode()


def test_a_refused_certificate_is_problem_json(clerk_client: Client) -> None:
    head = clerk_client.post(f"{BASE}/changes/move-in", MOVE_IN, content_type="application/json").json()[
        "atena_numbers"
    ][0]
    response = clerk_client.post(
        f"{BASE}/certificates",
        {
            "kind": "individual",
            "atena_numbers": [head],
            "include": ["individual_number"],
            "requester": {"name": "𠮷田 太郎", "atena_number": head},
        },
        content_type="application/json",
    )
    assert response.status_code == 403
    assert response.json()["code"] == "individual_number_purpose_required"
