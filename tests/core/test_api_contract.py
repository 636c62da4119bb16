"""API conventions: OpenAPI, problem+json, and nothing half-written after a failed request."""

import pytest
from django.test import Client

from lgcloud.accounts.models import Staff
from lgcloud.audit.models import AuditRecord
from lgcloud.core.permissions import Role
from tests.conftest import StaffFactory, signed_in

pytestmark = pytest.mark.django_db


def test_openapi_document_and_docs_page(client: Client) -> None:
    schema = client.get("/api/v1/openapi.json").json()
    assert schema["info"]["title"] == "lgcloud API"
    paths = schema["paths"]
    for path in (
        "/api/v1/municipalities",
        "/api/v1/municipalities/{lg_code}",
        "/api/v1/me",
        "/api/v1/staff",
        "/api/v1/staff/{staff_id}",
        "/api/v1/audit/records",
    ):
        assert path in paths
    lg_code = paths["/api/v1/municipalities/{lg_code}"]["get"]["parameters"][0]
    assert lg_code["schema"]["pattern"] == "^[0-9]{6}$"
    assert {"StaffTokenAuth", "StaffSessionAuth"} <= set(schema["components"]["securitySchemes"])
    docs = client.get("/api/v1/docs")
    assert docs.status_code == 200
    assert b"swagger" in docs.content.lower()


def test_validation_errors_are_problem_json_with_fields(make_staff: StaffFactory) -> None:
    client = signed_in(Client(), make_staff("131016", "kanri", Role.MUNICIPAL_ADMIN))
    before = (Staff.objects.count(), AuditRecord.objects.count())
    response = client.post(
        "/api/v1/staff",
        {"username": "ok-name", "display_name": "x", "roles": ["boss"]},
        content_type="application/json",
    )
    assert response.status_code == 422
    body = response.json()
    assert response["Content-Type"] == "application/problem+json"
    assert body["code"] == "validation_error"
    assert body["type"].endswith("/validation_error")
    assert body["errors"][0]["field"].startswith("roles")
    assert (Staff.objects.count(), AuditRecord.objects.count()) == before


def test_domain_errors_are_problem_json_and_write_nothing(make_staff: StaffFactory) -> None:
    client = signed_in(Client(), make_staff("131016", "kanri", Role.MUNICIPAL_ADMIN))
    before = (Staff.objects.count(), AuditRecord.objects.count())
    response = client.post(
        "/api/v1/staff",
        {"username": "BAD NAME", "display_name": "x", "roles": ["counter"]},
        content_type="application/json",
    )
    assert response.status_code == 422
    errors = response.json()["errors"]
    assert errors[0]["field"] == "username"
    assert "半角英小文字" in errors[0]["message"]
    assert (Staff.objects.count(), AuditRecord.objects.count()) == before


def test_a_failure_after_the_first_write_rolls_everything_back(make_staff: StaffFactory, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    """The staff row is written before its roles: a crash in between must leave neither."""
    client = signed_in(Client(raise_request_exception=False), make_staff("131016", "kanri", Role.MUNICIPAL_ADMIN))
    before = (Staff.objects.count(), AuditRecord.objects.count())

    def explode(*args, **kwargs):  # type: ignore[no-untyped-def]
        raise RuntimeError("disk full")

    monkeypatch.setattr("lgcloud.accounts.models.StaffRole.objects.bulk_create", explode)
    response = client.post(
        "/api/v1/staff",
        {"username": "newbie", "display_name": "x", "roles": ["counter"]},
        content_type="application/json",
    )
    assert response.status_code == 500
    body = response.json()
    assert body["code"] == "internal_error"
    assert "disk full" not in response.content.decode()
    assert body["request_id"] == response["X-Request-ID"]
    assert (Staff.objects.count(), AuditRecord.objects.count()) == before


def test_forbidden_is_problem_json(make_staff: StaffFactory) -> None:
    client = signed_in(Client(), make_staff("131016", "madoguchi", Role.COUNTER))
    response = client.get("/api/v1/audit/records")
    assert response.status_code == 403
    assert response.json()["code"] == "forbidden"
    assert "audit:log:read" in response.json()["detail"]


def test_unknown_api_paths_and_methods_are_problem_json(make_staff: StaffFactory) -> None:
    client = signed_in(Client(), make_staff("131016", "madoguchi", Role.COUNTER))
    missing = client.get("/api/v1/no-such-thing")
    assert missing.status_code == 404
    assert missing["Content-Type"] == "application/problem+json"
    assert missing.json()["code"] == "not_found"
    wrong_method = client.delete("/api/v1/municipalities")
    assert wrong_method.status_code == 405
    assert wrong_method.json()["code"] == "method_not_allowed"
    assert "GET" in wrong_method["Allow"]


def test_a_body_that_is_not_json_is_a_clear_400(make_staff: StaffFactory) -> None:
    client = signed_in(Client(), make_staff("131016", "kanri", Role.MUNICIPAL_ADMIN))
    response = client.post("/api/v1/staff", "{not json", content_type="application/json")
    assert response.status_code == 400
    assert response.json()["code"] == "bad_request"
    assert "JSON" in response.json()["detail"]


def test_a_failed_csrf_check_says_so(make_staff: StaffFactory) -> None:
    admin = make_staff("131016", "kanri", Role.MUNICIPAL_ADMIN)
    client = signed_in(Client(enforce_csrf_checks=True), admin)
    response = client.post(
        "/api/v1/staff", {"username": "x1", "display_name": "x", "roles": ["counter"]}, content_type="application/json"
    )
    assert response.status_code == 403
    assert response.json()["code"] == "forbidden"
    assert "CSRF" in response.json()["detail"]
