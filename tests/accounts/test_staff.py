import io
import sys
from io import StringIO

import pytest
from django.contrib.auth.hashers import identify_hasher
from django.core.exceptions import ValidationError
from django.core.management import CommandError, call_command

from lgcloud.accounts.actions import create_staff, set_staff_active, set_staff_roles
from lgcloud.accounts.models import Staff, StaffRole
from lgcloud.audit.models import AuditRecord
from lgcloud.core.permissions import Role
from lgcloud.core.tenancy import TenantContext
from tests.conftest import PASSWORD, StaffFactory

pytestmark = pytest.mark.django_db


def test_staff_belong_to_one_municipality_and_operators_to_none(make_staff: StaffFactory) -> None:
    clerk = make_staff("131016", "tanaka", Role.REGISTRY_CLERK, Role.COUNTER)
    operator = make_staff(None, "ops", Role.OPERATOR)
    assert clerk.municipality_id == "131016"
    assert clerk.roles == {Role.REGISTRY_CLERK, Role.COUNTER}
    assert operator.municipality_id is None
    assert operator.login_id == "platform/ops"


def test_the_same_username_in_two_municipalities_does_not_collide(make_staff: StaffFactory) -> None:
    a = make_staff("131016", "tanaka", Role.COUNTER)
    b = make_staff("131041", "tanaka", Role.COUNTER)
    assert (a.login_id, b.login_id) == ("131016/tanaka", "131041/tanaka")


def test_passwords_are_hashed_with_argon2(make_staff: StaffFactory) -> None:
    staff = make_staff("131016", "tanaka", Role.COUNTER)
    assert identify_hasher(staff.password).algorithm == "argon2"
    assert PASSWORD not in staff.password


def test_creation_is_audited_without_the_password(make_staff: StaffFactory) -> None:
    staff = make_staff("131016", "tanaka", Role.COUNTER)
    entry = AuditRecord.objects.get(action="accounts.staff.created", subject_id=str(staff.pk))
    assert entry.municipality_id == "131016"
    assert "password" in entry.fields
    assert PASSWORD not in str(AuditRecord.objects.values_list())


@pytest.mark.parametrize(
    ("username", "roles", "password", "field", "message"),
    [
        ("Tanaka!", [Role.COUNTER], PASSWORD, "username", "半角英小文字"),
        ("tanaka", [], PASSWORD, "roles", "ロールを1つ以上選んでください。"),
        ("tanaka", [Role.OPERATOR], PASSWORD, "roles", "団体の職員には次のロールを付与できません: 運用者"),
        ("tanaka", [Role.COUNTER], "short", "password", "このパスワードは短すぎます"),
    ],
)
def test_bad_input_is_refused_in_japanese_and_writes_nothing(
    tokyo: list[str], username: str, roles: list[Role], password: str, field: str, message: str
) -> None:
    ctx = TenantContext.system("131016", purpose="test")
    audit_before = AuditRecord.objects.count()
    with pytest.raises(ValidationError) as exc:
        create_staff(ctx, username=username, display_name="田中", roles=roles, password=password)
    assert any(message in m for m in exc.value.message_dict[field]), exc.value.message_dict
    assert not Staff.objects.exists()
    assert AuditRecord.objects.count() == audit_before


def test_the_last_municipal_admin_cannot_be_removed(make_staff: StaffFactory) -> None:
    admin = make_staff("131016", "admin", Role.MUNICIPAL_ADMIN)
    ctx = TenantContext.system("131016", purpose="test")
    with pytest.raises(ValidationError, match="団体管理者が1人もいなくなる"):
        set_staff_roles(ctx, admin.pk, [Role.COUNTER])
    with pytest.raises(ValidationError, match="団体管理者が1人もいなくなる"):
        set_staff_active(ctx, admin.pk, False)
    second = make_staff("131016", "admin2", Role.MUNICIPAL_ADMIN)
    set_staff_roles(ctx, admin.pk, [Role.COUNTER])
    assert set(StaffRole.objects.filter(staff=admin).values_list("role", flat=True)) == {"counter"}
    assert second.roles == {Role.MUNICIPAL_ADMIN}


def test_create_staff_command_generates_and_prints_a_password(tokyo: list[str]) -> None:
    out = StringIO()
    call_command(
        "create_staff",
        "--municipality",
        "131016",
        "--username",
        "suzuki",
        "--role",
        "counter",
        "--role",
        "auditor",
        stdout=out,
    )
    printed = out.getvalue()
    assert "作成しました: 131016/suzuki（counter, auditor）" in printed
    password = printed.split("初期パスワード: ")[1].strip()
    staff = Staff.objects.get(login_id="131016/suzuki")
    assert staff.check_password(password)
    assert staff.roles == {Role.COUNTER, Role.AUDITOR}


def test_create_staff_command_reads_the_password_from_stdin(tokyo: list[str], monkeypatch) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.setattr(sys, "stdin", io.StringIO("a-long-enough-passphrase\n"))
    out = StringIO()
    call_command(
        "create_staff",
        "--municipality",
        "131041",
        "--username",
        "sato",
        "--role",
        "municipal_admin",
        "--password-stdin",
        stdout=out,
    )
    assert "初期パスワード" not in out.getvalue()
    assert Staff.objects.get(login_id="131041/sato").check_password("a-long-enough-passphrase")


def test_create_staff_command_creates_operators(tokyo: list[str]) -> None:
    call_command("create_staff", "--username", "ops", "--role", "operator", stdout=StringIO())
    assert Staff.objects.get(login_id="platform/ops").municipality_id is None


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--municipality", "131017", "--username", "x1", "--role", "counter"], "検査数字"),
        (["--municipality", "999997", "--username", "x1", "--role", "counter"], "登録されていません"),
        (["--municipality", "131016", "--username", "x1", "--role", "boss"], "ロール 'boss' はありません"),
        (["--municipality", "131016", "--username", "x1", "--role", "operator"], "付与できません"),
    ],
)
def test_create_staff_command_errors_are_clear(tokyo: list[str], args: list[str], message: str) -> None:
    with pytest.raises(CommandError, match=message):
        call_command("create_staff", *args, stdout=StringIO())
    assert not Staff.objects.exists()
