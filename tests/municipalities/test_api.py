import pytest
from django.test import Client

from lgcloud.core.permissions import Role
from tests.conftest import StaffFactory

pytestmark = pytest.mark.django_db


def test_listing_needs_a_signed_in_user(client: Client, tokyo: list[str]) -> None:
    response = client.get("/api/v1/municipalities")
    assert response.status_code == 401
    assert response["Content-Type"] == "application/problem+json"
    assert response.json()["code"] == "not_authenticated"


def test_signed_in_staff_list_municipalities(make_staff: StaffFactory, login_as, tokyo: list[str]) -> None:  # type: ignore[no-untyped-def]
    client = login_as(make_staff("131016", "counter", Role.COUNTER))
    response = client.get("/api/v1/municipalities", {"prefecture_code": "13"})
    assert response.status_code == 200
    body = response.json()
    assert len(body) == 62
    assert body[0] == {
        "lg_code": "131016",
        "name": "千代田区",
        "name_kana": "チヨダク",
        "prefecture": "東京都",
        "kind": "special_ward",
        "kind_label": "特別区",
        "kyuchi": "1-1",
        "on_platform": False,
    }
    one = client.get("/api/v1/municipalities/132012").json()
    assert (one["name"], one["kind_label"]) == ("八王子市", "市")


def test_bad_parameters_get_problem_json(make_staff: StaffFactory, login_as) -> None:  # type: ignore[no-untyped-def]
    client = login_as(make_staff("131016", "counter", Role.COUNTER))
    response = client.get("/api/v1/municipalities/13101")
    assert response.status_code == 422
    assert response.json()["code"] == "validation_error"
    assert client.get("/api/v1/municipalities/999999").json()["code"] == "not_found"
