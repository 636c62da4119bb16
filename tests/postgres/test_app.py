"""The tenant wall through the application on PostgreSQL: pages, API, queries and the ORM, as the app role.

Municipality A (千代田区) and B (新宿区) both have staff called kanri, kansa and
madoguchi. A's staff must not read, list, change or detect B's, and another
municipality's object answers exactly what a missing one does: 404, never 403.
"""

from __future__ import annotations

import json
import re
from typing import Any

import pytest
from django.db import ProgrammingError, connection
from django.http import Http404, HttpResponse
from django.test import Client

from lgcloud.accounts import access, queries
from lgcloud.accounts.models import ApiToken, Staff, StaffRole
from lgcloud.audit.actions import record
from lgcloud.audit.models import AuditRecord, AuditSeal, AuditTreeHead
from lgcloud.audit.verify import verify_chain
from lgcloud.core.permissions import Role
from lgcloud.core.tenancy import TenantContext, bound, platform_scope

from .catalog import rows_by_municipality
from .conftest import PASSWORD, RawConnection, Seed, Tenant, sign_in

pytestmark = pytest.mark.django_db

MISSING_ID = 987_654_321


def _ctx(tenant: Tenant, staff_id: int, *roles: Role) -> TenantContext:
    return TenantContext(
        lg_code=tenant.lg_code, actor_id=staff_id, actor_name="test", roles=frozenset(roles), purpose="test"
    )


def _admin(client: Client, tenant: Tenant) -> Client:
    return sign_in(client, tenant.admin_id, device=tenant.admin_device)


def _without_csrf(html: bytes) -> bytes:
    # The CSRF token is masked differently in every response.
    return re.sub(rb'name="csrfmiddlewaretoken" value="[^"]+"', b"", html)


def _problem(response: HttpResponse) -> dict[str, Any]:
    assert response["Content-Type"].startswith("application/problem+json")
    body = json.loads(response.content)
    body.pop("instance")  # the path asked for
    body.pop("request_id", None)
    return dict(body)


def _staff_ids(superuser_db: RawConnection, lg_code: str) -> set[int]:
    rows = superuser_db.execute("SELECT id FROM accounts_staff WHERE municipality_id = %s", [lg_code]).fetchall()
    return {int(r[0]) for r in rows}


def _roles_of(staff_id: int) -> set[str]:
    with platform_scope():
        return set(StaffRole.objects.filter(staff_id=staff_id).values_list("role", flat=True))


# Pages


def test_another_municipalitys_staff_page_is_the_same_404_as_a_missing_one(seed: Seed, client: Client) -> None:
    _admin(client, seed.a)
    other = client.get(f"/staff/{seed.b.admin_id}/")
    missing = client.get(f"/staff/{MISSING_ID}/")
    assert other.status_code == missing.status_code == 404
    assert _without_csrf(other.content) == _without_csrf(missing.content)
    assert seed.b.name.encode() not in other.content
    assert client.get(f"/staff/{seed.a.counter_id}/").status_code == 200  # the page itself works


def test_the_staff_list_page_shows_only_the_own_municipality(seed: Seed, client: Client) -> None:
    _admin(client, seed.a)
    response = client.get("/staff/")
    html = response.content.decode()
    assert response.status_code == 200
    assert f"{seed.a.name} madoguchi" in html
    assert seed.b.name not in html
    assert f"/staff/{seed.b.counter_id}/" not in html


@pytest.mark.parametrize(
    "form", [{"op": "roles", "roles": ["auditor"]}, {"op": "deactivate"}, {"op": "reset_password"}]
)
def test_another_municipalitys_staff_cannot_be_changed_through_pages(
    seed: Seed, client: Client, form: dict[str, Any]
) -> None:
    _admin(client, seed.a)
    assert client.post(f"/staff/{seed.b.counter_id}/", form).status_code == 404
    with platform_scope():
        counter = Staff.objects.get(pk=seed.b.counter_id)
        assert counter.is_active
        assert counter.check_password(PASSWORD)
    assert _roles_of(seed.b.counter_id) == {Role.COUNTER.value}


# API


def test_the_api_answers_another_municipalitys_staff_with_the_same_404_problem(seed: Seed, client: Client) -> None:
    _admin(client, seed.a)
    other = client.get(f"/api/v1/staff/{seed.b.admin_id}")
    missing = client.get(f"/api/v1/staff/{MISSING_ID}")
    assert other.status_code == missing.status_code == 404
    assert _problem(other) == _problem(missing)
    assert _problem(other)["code"] == "not_found"
    assert client.get(f"/api/v1/staff/{seed.a.counter_id}").status_code == 200


def test_the_api_lists_only_the_own_municipalitys_staff(
    seed: Seed, client: Client, superuser_db: RawConnection
) -> None:
    _admin(client, seed.a)
    response = client.get("/api/v1/staff")
    assert response.status_code == 200
    assert {s["id"] for s in response.json()} == _staff_ids(superuser_db, seed.a.lg_code)


def test_another_municipalitys_roles_cannot_be_changed_through_the_api(seed: Seed, client: Client) -> None:
    _admin(client, seed.a)
    for staff_id in (seed.b.counter_id, MISSING_ID):
        response = client.put(
            f"/api/v1/staff/{staff_id}/roles", {"roles": ["municipal_admin"]}, content_type="application/json"
        )
        assert response.status_code == 404
        assert _problem(response)["code"] == "not_found"
    assert _roles_of(seed.b.counter_id) == {Role.COUNTER.value}


def test_a_personal_api_token_reaches_only_its_own_municipality(seed: Seed, superuser_db: RawConnection) -> None:
    client = Client(headers={"Authorization": f"Bearer {seed.a.auditor_token}"})
    assert client.get(f"/api/v1/staff/{seed.b.admin_id}").status_code == 404
    records = client.get("/api/v1/audit/records")
    assert records.status_code == 200
    chains = superuser_db.execute(
        "SELECT DISTINCT municipality_id FROM audit_auditrecord WHERE id = ANY(%s)",
        [[r["id"] for r in records.json()["records"]]],
    ).fetchall()
    assert chains == [(seed.a.lg_code,)]


def test_the_audit_api_shows_an_auditor_only_the_own_chain(
    seed: Seed, client: Client, superuser_db: RawConnection
) -> None:
    def hashes(lg_code: str) -> set[int]:
        rows = superuser_db.execute("SELECT id FROM audit_auditrecord WHERE municipality_id = %s", [lg_code])
        return {int(r[0]) for r in rows.fetchall()}

    sign_in(client, seed.a.auditor_id)
    response = client.get("/api/v1/audit/records")
    assert response.status_code == 200
    page = response.json()
    seen = {r["id"] for r in page["records"]}
    # The seeded records are sealed (the seed ran the sealer): each shows its place in the chain.
    assert all(r["seq"] for r in page["records"])
    assert seen
    assert seen <= hashes(seed.a.lg_code)
    assert not seen & hashes(seed.b.lg_code)
    assert page["total"] == len(hashes(seed.a.lg_code))


# Queries and the ORM: the second wall holds where the first is missing


def test_pages_and_api_stay_closed_when_the_app_filter_is_missing(
    seed: Seed, client: Client, monkeypatch: pytest.MonkeyPatch
) -> None:
    def without_tenant_filter(ctx: TenantContext, staff_id: int) -> Staff:
        with bound(ctx):
            # The bug: a look-up by id alone, without municipality_id=ctx.lg_code.
            staff = Staff.objects.filter(pk=staff_id).prefetch_related("role_assignments").first()
            if staff is None:
                raise Http404
            return staff

    monkeypatch.setattr(access, "get_staff_for_management", without_tenant_filter)
    _admin(client, seed.a)
    assert client.get(f"/staff/{seed.a.counter_id}/").status_code == 200  # the patched function is in use
    assert client.get(f"/staff/{seed.b.counter_id}/").status_code == 404
    assert client.get(f"/api/v1/staff/{seed.b.counter_id}").status_code == 404


def test_list_staff_returns_only_the_own_municipality(seed: Seed, superuser_db: RawConnection) -> None:
    ctx = _ctx(seed.a, seed.a.admin_id, Role.MUNICIPAL_ADMIN)
    assert {s.pk for s in queries.list_staff(ctx)} == _staff_ids(superuser_db, seed.a.lg_code)


def test_unfiltered_orm_queries_inside_a_tenant_see_only_that_tenant(seed: Seed, superuser_db: RawConnection) -> None:
    ctx = _ctx(seed.a, seed.a.admin_id, Role.MUNICIPAL_ADMIN)
    with bound(ctx):
        # No municipality filter anywhere: what an app-level bug would look like.
        assert {s.pk for s in Staff.objects.all()} == _staff_ids(superuser_db, seed.a.lg_code)
        assert Staff.objects.filter(pk=seed.b.admin_id).first() is None
        for model in (Staff, StaffRole, ApiToken, AuditRecord, AuditSeal, AuditTreeHead):
            assert set(model.objects.values_list("municipality_id", flat=True)) == {seed.a.lg_code}, model
    # Outside any scope, the ORM sees no staff at all.
    assert Staff.objects.count() == 0


def test_the_platform_scope_alone_sees_every_municipalitys_staff(seed: Seed, superuser_db: RawConnection) -> None:
    """By design: signing in looks staff up before the municipality is known."""
    everyone = rows_by_municipality(superuser_db, "accounts_staff")
    with platform_scope():
        seen = {lg: Staff.objects.filter(municipality_id=lg).count() for lg in everyone}
    assert seen == everyone
    assert set(everyone) == {seed.a.lg_code, seed.b.lg_code, None}  # None: the operator


def test_the_app_role_appends_to_the_audit_log_through_record(seed: Seed) -> None:
    ctx = TenantContext.system(seed.a.lg_code, purpose="test")
    with bound(ctx):
        entry = record(ctx, "test.appended", subject_type="test", subject_id="1")
        assert AuditRecord.objects.filter(pk=entry.pk, municipality_id=seed.a.lg_code).exists()
        # The writer's transaction id, which lets the sealer find a record that commits late.
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT txid = pg_current_xact_id()::text::bigint FROM audit_auditrecord WHERE id = %s", [entry.pk]
            )
            assert cursor.fetchone() == (True,)
        assert not AuditSeal.objects.filter(record_id=entry.pk).exists()  # the sealer gives it its place
    result = verify_chain(seed.a.lg_code)
    assert result.ok and result.records > 0 and result.unsealed >= 1


def test_the_audit_log_refuses_to_be_edited_through_the_orm(seed: Seed) -> None:
    ctx = TenantContext.system(seed.a.lg_code, purpose="test")
    with pytest.raises(ProgrammingError, match="permission denied"), bound(ctx):
        AuditRecord.objects.filter(municipality_id=seed.a.lg_code).update(action="tampered")


# Signing in


def test_sign_in_through_the_login_page(seed: Seed, client: Client) -> None:
    response = client.post("/login/", {"lg_code": seed.a.lg_code, "username": "madoguchi", "password": PASSWORD})
    assert response.status_code == 302
    assert response["Location"] == "/dashboard/"
    assert seed.a.name in client.get("/dashboard/").content.decode()


def test_resident_search_under_row_level_security(seed: Seed) -> None:
    """Prefix search as a range over COLLATE "C" keys: right answers, and only the own municipality's."""
    from datetime import date as date_

    from lgcloud.registry import queries

    ctx = TenantContext.system(seed.a.lg_code, purpose="test")
    for query in (queries.SearchQuery(kana="ﾀｶﾊ"), queries.SearchQuery(name="高橋"), queries.SearchQuery(name="髙")):
        results = queries.search_persons(ctx, query, today=date_(2026, 11, 26)).results
        assert {r.full_name for r in results} >= {"髙橋　太郎"}, query
    assert queries.search_persons(ctx, queries.SearchQuery(kana="ﾀｶﾊｼﾀﾛｳｽ"), today=date_(2026, 11, 26)).results == []
