from datetime import timedelta
from io import StringIO

import pytest
from django.core.management import CommandError, call_command
from django.test import Client
from django.utils import timezone

from lgcloud.accounts.actions import create_api_token, revoke_api_token
from lgcloud.accounts.models import ApiToken
from lgcloud.core.permissions import Role
from lgcloud.core.tenancy import TenantContext
from tests.conftest import StaffFactory

pytestmark = pytest.mark.django_db


def _issue(make_staff: StaffFactory, *roles: Role) -> tuple[str, int]:
    staff = make_staff("131016", "robot", *roles)
    out = StringIO()
    call_command("create_api_token", "--username", "robot", "--name", "RPA", stdout=out, stderr=StringIO())
    return out.getvalue().strip(), staff.pk


def test_tokens_are_printed_once_and_stored_hashed(make_staff: StaffFactory) -> None:
    raw, staff_id = _issue(make_staff, Role.COUNTER)
    assert raw.startswith("lgc_")
    token = ApiToken.objects.get(staff_id=staff_id)
    assert raw not in (token.token_hash, token.prefix)
    assert len(token.token_hash) == 64
    assert token.expires_at > timezone.now() + timedelta(days=89)


def test_a_token_acts_with_its_owners_roles(make_staff: StaffFactory) -> None:
    raw, _ = _issue(make_staff, Role.AUDITOR)
    client = Client()
    me = client.get("/api/v1/me", headers={"Authorization": f"Bearer {raw}"})
    assert me.status_code == 200
    assert me.json()["staff"]["roles"] == ["auditor"]
    assert "audit:log:read" in me.json()["permissions"]
    assert client.get("/api/v1/audit/records", headers={"Authorization": f"Bearer {raw}"}).status_code == 200
    denied = client.get("/api/v1/staff", headers={"Authorization": f"Bearer {raw}"})
    assert denied.status_code == 403
    assert denied.json()["code"] == "forbidden"


@pytest.mark.parametrize("how", ["expired", "revoked", "deactivated", "garbage"])
def test_dead_tokens_are_refused(make_staff: StaffFactory, how: str) -> None:
    raw, staff_id = _issue(make_staff, Role.COUNTER)
    if how == "expired":
        ApiToken.objects.update(expires_at=timezone.now() - timedelta(seconds=1))
    elif how == "revoked":
        ctx = TenantContext(
            lg_code="131016", actor_id=staff_id, actor_name="robot", roles=frozenset({Role.COUNTER}), purpose="test"
        )
        revoke_api_token(ctx, ApiToken.objects.get().pk)
    elif how == "deactivated":
        from lgcloud.accounts.models import Staff

        Staff.objects.filter(pk=staff_id).update(is_active=False)
    else:
        raw = raw[:-2] + "xx"
    response = Client().get("/api/v1/me", headers={"Authorization": f"Bearer {raw}"})
    assert response.status_code == 401
    assert response.json()["code"] == "not_authenticated"


def test_token_lifetime_is_bounded(make_staff: StaffFactory) -> None:
    from django.core.exceptions import ValidationError

    staff = make_staff("131016", "robot", Role.COUNTER)
    with pytest.raises(ValidationError, match="1〜366日"):
        create_api_token(TenantContext.system("131016", "test"), staff.pk, name="x", days=400)


def test_ambiguous_usernames_need_the_municipality(make_staff: StaffFactory) -> None:
    make_staff("131016", "robot", Role.COUNTER)
    make_staff("131041", "robot", Role.COUNTER)
    with pytest.raises(CommandError, match="--municipality"):
        call_command("create_api_token", "--username", "robot", stdout=StringIO())
    out = StringIO()
    call_command("create_api_token", "--username", "robot", "--municipality", "131041", stdout=out, stderr=StringIO())
    assert ApiToken.objects.get().municipality_id == "131041"


def test_unknown_user_is_a_clear_error(tokyo: list[str]) -> None:
    with pytest.raises(CommandError, match="ユーザー名 nobody の職員が見つかりません"):
        call_command("create_api_token", "--username", "nobody")


@pytest.mark.parametrize("role", [Role.MUNICIPAL_ADMIN, Role.OPERATOR])
def test_no_tokens_for_roles_that_need_a_second_factor(make_staff: StaffFactory, role: Role) -> None:
    from django.core.exceptions import ValidationError

    lg_code = None if role is Role.OPERATOR else "131016"
    staff = make_staff(lg_code, "kanri", role)
    with pytest.raises(ValidationError, match="二要素認証を迂回できない"):
        create_api_token(TenantContext.system(lg_code, "test"), staff.pk, name="x")
    assert not ApiToken.objects.exists()


def test_a_token_stops_when_its_owner_becomes_an_admin(make_staff: StaffFactory) -> None:
    from lgcloud.accounts.actions import set_staff_roles

    raw, staff_id = _issue(make_staff, Role.COUNTER)
    make_staff("131016", "boss", Role.MUNICIPAL_ADMIN)
    set_staff_roles(TenantContext.system("131016", "test"), staff_id, [Role.COUNTER, Role.MUNICIPAL_ADMIN])
    response = Client().get("/api/v1/me", headers={"Authorization": f"Bearer {raw}"})
    assert response.status_code == 401


def test_a_token_with_characters_outside_ascii_is_no_token_not_a_crash(tokyo: list[str]) -> None:
    response = Client().get("/api/v1/me", HTTP_AUTHORIZATION="Bearer lgc_…トークン")
    assert response.status_code == 401
    assert response.json()["code"] == "not_authenticated"
