"""The application wall: staff of one municipality cannot read, list, change or detect another's rows.

The same guarantees are checked on PostgreSQL with row-level security in tests/postgres/.
"""

from __future__ import annotations

import json
import re

import pytest
from django.http import Http404
from django.test import Client

from lgcloud.accounts import access, queries
from lgcloud.accounts.actions import create_api_token, create_staff
from lgcloud.accounts.context import context_for
from lgcloud.accounts.models import ApiToken, Staff
from lgcloud.audit.models import AuditRecord
from lgcloud.audit.queries import AuditFilter, search_audit_log
from lgcloud.core.permissions import Role
from lgcloud.core.tenancy import TenantContext
from tests.conftest import StaffFactory, signed_in

pytestmark = pytest.mark.django_db

A, B = "131016", "131041"


@pytest.fixture
def two(make_staff: StaffFactory) -> dict[str, Staff]:
    return {
        "a_admin": make_staff(A, "admin", Role.MUNICIPAL_ADMIN),
        "a_auditor": make_staff(A, "auditor", Role.AUDITOR),
        "b_admin": make_staff(B, "admin", Role.MUNICIPAL_ADMIN),
        "b_clerk": make_staff(B, "clerk", Role.COUNTER),
        "b_auditor": make_staff(B, "auditor", Role.AUDITOR),
    }


def _without_csrf(html: bytes) -> bytes:
    return re.sub(rb'name="csrfmiddlewaretoken" value="[^"]+"', b"", html)


def _problem_without_noise(response) -> dict[str, object]:  # type: ignore[no-untyped-def]
    body = json.loads(response.content)
    body.pop("request_id", None)
    body.pop("instance", None)
    return body


def test_pages_answer_404_for_another_municipalitys_staff(two: dict[str, Staff]) -> None:
    client = signed_in(Client(), two["a_admin"])
    other = client.get(f"/staff/{two['b_clerk'].pk}/")
    missing = client.get("/staff/999999/")
    assert other.status_code == missing.status_code == 404
    # Nothing tells "exists elsewhere" from "does not exist" (CSRF tokens are masked per response).
    assert _without_csrf(other.content) == _without_csrf(missing.content)
    listing = client.get("/staff/").content.decode()
    assert "clerk 職員" not in listing
    assert "auditor 職員" in listing


def test_pages_cannot_change_another_municipalitys_staff(two: dict[str, Staff]) -> None:
    client = signed_in(Client(), two["a_admin"])
    for op in ("deactivate", "reset_password"):
        assert client.post(f"/staff/{two['b_clerk'].pk}/", {"op": op}).status_code == 404
    response = client.post(f"/staff/{two['b_clerk'].pk}/", {"op": "roles", "roles": ["auditor"]})
    assert response.status_code == 404
    clerk = Staff.objects.get(pk=two["b_clerk"].pk)
    assert clerk.is_active
    assert clerk.roles == {Role.COUNTER}
    assert clerk.check_password("correct-horse-battery-staple")


def test_api_answers_the_same_404_for_other_and_missing(two: dict[str, Staff]) -> None:
    client = signed_in(Client(), two["a_admin"])
    other = client.get(f"/api/v1/staff/{two['b_clerk'].pk}")
    missing = client.get("/api/v1/staff/999999")
    assert other.status_code == missing.status_code == 404
    assert other["Content-Type"] == "application/problem+json"
    assert _problem_without_noise(other) == _problem_without_noise(missing)
    assert _problem_without_noise(other)["code"] == "not_found"


def test_api_lists_and_changes_only_the_own_municipality(two: dict[str, Staff]) -> None:
    client = signed_in(Client(), two["a_admin"])
    usernames = {s["username"] for s in client.get("/api/v1/staff").json()}
    assert usernames == {"admin", "auditor"}
    ids = {s["id"] for s in client.get("/api/v1/staff").json()}
    assert ids == {two["a_admin"].pk, two["a_auditor"].pk}
    changed = client.put(
        f"/api/v1/staff/{two['b_clerk'].pk}/roles", {"roles": ["auditor"]}, content_type="application/json"
    )
    assert changed.status_code == 404
    assert Staff.objects.get(pk=two["b_clerk"].pk).roles == {Role.COUNTER}


def test_a_new_account_lands_in_the_callers_municipality_only(two: dict[str, Staff]) -> None:
    client = signed_in(Client(), two["a_admin"])
    # The username exists in B: creating it in A must neither fail nor reveal that.
    created = client.post(
        "/api/v1/staff",
        {"username": "clerk", "display_name": "窓口", "roles": ["counter"]},
        content_type="application/json",
    )
    assert created.status_code == 201
    assert created.json()["staff"]["lg_code"] == A
    assert Staff.objects.filter(username="clerk").count() == 2


def test_audit_log_shows_only_the_own_chain(two: dict[str, Staff]) -> None:
    client = signed_in(Client(), two["a_auditor"])
    records = client.get("/api/v1/audit/records").json()["records"]
    assert records
    b_ids = {str(s.pk) for k, s in two.items() if k.startswith("b_")}
    assert not {r["subject_id"] for r in records} & b_ids
    page = client.get("/audit/", {"subject_id": str(two["b_clerk"].pk)}).content.decode()
    assert "該当する記録はありません" in page


def test_queries_and_access_take_the_tenant_first(two: dict[str, Staff]) -> None:
    ctx_a = context_for(Staff.objects.get(pk=two["a_admin"].pk))
    assert {s.pk for s in queries.list_staff(ctx_a)} == {two["a_admin"].pk, two["a_auditor"].pk}
    with pytest.raises(Http404):
        access.get_staff_for_management(ctx_a, two["b_clerk"].pk)
    auditor_a = context_for(Staff.objects.get(pk=two["a_auditor"].pk))
    page = search_audit_log(auditor_a, AuditFilter())
    assert page.records
    assert {r.municipality_id for r in page.records} == {A}
    assert AuditRecord.objects.filter(municipality_id=B).exists()


def test_tokens_of_another_municipality_cannot_be_revoked(two: dict[str, Staff]) -> None:
    issued = create_api_token(TenantContext.system(B, "test"), two["b_clerk"].pk, name="robot")
    client = signed_in(Client(), two["a_admin"])
    assert client.post("/tokens/", {"op": "revoke", "token_id": issued.token.pk}).status_code == 404
    assert ApiToken.objects.get(pk=issued.token.pk).revoked_at is None
    # ... and B's token cannot reach A's data.
    b_client = Client()
    staff = b_client.get("/api/v1/staff", headers={"Authorization": f"Bearer {issued.raw}"})
    assert staff.status_code == 403


def test_actions_cannot_write_into_another_municipality(two: dict[str, Staff]) -> None:
    """A context for A always writes A's rows, whatever ids are passed in."""
    ctx_a = TenantContext.system(A, "test")
    created = create_staff(
        ctx_a, username="newbie", display_name="新人", roles=[Role.COUNTER], password="another-long-password"
    ).staff
    assert created.municipality_id == A
    from lgcloud.accounts.actions import set_staff_active

    with pytest.raises(Http404):
        set_staff_active(ctx_a, two["b_clerk"].pk, False)


def test_operators_do_not_see_municipal_staff(make_staff: StaffFactory, two: dict[str, Staff]) -> None:
    client = signed_in(Client(), make_staff(None, "ops", Role.OPERATOR))
    assert client.get("/api/v1/staff").status_code == 403
    assert client.get(f"/api/v1/staff/{two['b_clerk'].pk}").status_code == 404
    assert client.get("/staff/").status_code == 403
    assert client.get("/audit/").status_code == 403


def test_reads_of_staff_records_are_audited(two: dict[str, Staff]) -> None:
    client = signed_in(Client(), two["a_admin"])
    client.get(f"/api/v1/staff/{two['a_auditor'].pk}")
    client.get("/staff/")
    viewed = AuditRecord.objects.filter(action="accounts.staff.viewed", municipality_id=A)
    assert viewed.filter(subject_id=str(two["a_auditor"].pk), actor_id=two["a_admin"].pk).exists()
    assert AuditRecord.objects.filter(action="accounts.staff.listed", municipality_id=A).exists()
    # A refused read of another municipality's record leaves no trace in either chain.
    client.get(f"/api/v1/staff/{two['b_clerk'].pk}")
    assert not AuditRecord.objects.filter(action="accounts.staff.viewed", subject_id=str(two["b_clerk"].pk)).exists()
