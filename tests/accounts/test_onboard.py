from io import StringIO
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command

from lgcloud.accounts.models import Staff
from lgcloud.core.permissions import Role
from lgcloud.municipalities.models import Municipality

pytestmark = pytest.mark.django_db


def test_onboarding_one_municipality_creates_its_admin(tokyo: list[str]) -> None:
    out = StringIO()
    call_command("onboard", "--municipality", "132012", "--admin", "kanri", "--admin-name", "管理 一郎", stdout=out)
    code, username, password = out.getvalue().strip().split("\t")
    assert (code, username) == ("132012", "kanri")
    admin = Staff.objects.get(login_id="132012/kanri")
    assert admin.roles == {Role.MUNICIPAL_ADMIN}
    assert admin.check_password(password)
    assert Municipality.objects.get(lg_code="132012").on_platform


def test_onboarding_is_repeatable(tokyo: list[str]) -> None:
    call_command("onboard", "--municipality", "132012", "--admin", "kanri", stdout=StringIO())
    out = StringIO()
    call_command("onboard", "--municipality", "132012", "--admin", "kanri", stdout=out)
    assert "既存のため変更なし" in out.getvalue()
    assert Staff.objects.filter(municipality_id="132012").count() == 1


def test_bulk_onboarding_checks_every_row_before_writing(tokyo: list[str], tmp_path: Path) -> None:
    path = tmp_path / "onboarding.csv"
    path.write_text(
        "lg_code,admin_username,admin_display_name\n131016,kanri,管理 花子\n131017,kanri,x\n131041,Bad Name,y\n",
        encoding="utf-8",
    )
    with pytest.raises(CommandError) as exc:
        call_command("onboard", "--file", str(path), stdout=StringIO())
    message = str(exc.value)
    assert "3行目: 団体コード 131017 の検査数字" in message
    assert "4行目: ユーザー名は半角英小文字" in message
    assert not Staff.objects.exists()
    assert not Municipality.objects.filter(on_platform=True).exists()


def test_bulk_onboarding_of_all_of_tokyo(tokyo: list[str], tmp_path: Path) -> None:
    path = tmp_path / "onboarding.csv"
    path.write_text("lg_code,admin_username\n" + "".join(f"{code},admin\n" for code in tokyo), encoding="utf-8")
    out = StringIO()
    call_command("onboard", "--file", str(path), stdout=out)
    assert len(out.getvalue().strip().splitlines()) == 62
    assert Municipality.objects.filter(on_platform=True).count() == 62
    assert Staff.objects.filter(username="admin").count() == 62
