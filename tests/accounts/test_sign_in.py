"""Sign-in: password, lock-out, the second factor, cookies and headers."""

import pytest
from django.test import Client
from django_otp.oath import totp
from django_otp.plugins.otp_totp.models import TOTPDevice

from lgcloud.audit.models import AuditRecord
from lgcloud.core.permissions import Role
from tests.conftest import PASSWORD, StaffFactory

pytestmark = pytest.mark.django_db


def _login(client: Client, lg_code: str, username: str, password: str = PASSWORD):  # type: ignore[no-untyped-def]
    return client.post("/login/", {"lg_code": lg_code, "username": username, "password": password})


def test_counter_staff_sign_in_and_reach_their_dashboard(client: Client, make_staff: StaffFactory) -> None:
    make_staff("131016", "madoguchi", Role.COUNTER)
    response = _login(client, "131016", "madoguchi")
    assert response.status_code == 302
    assert response["Location"] == "/dashboard/"
    page = client.get("/dashboard/")
    assert "東京都千代田区" in page.content.decode()
    assert AuditRecord.objects.filter(action="accounts.session.started", municipality_id="131016").exists()


def test_the_wrong_municipality_code_does_not_sign_in(client: Client, make_staff: StaffFactory) -> None:
    make_staff("131016", "madoguchi", Role.COUNTER)
    response = _login(client, "131041", "madoguchi")
    assert response.status_code == 400
    assert "団体コード、ユーザー名またはパスワードが正しくありません。" in response.content.decode()
    assert AuditRecord.objects.filter(action="accounts.session.failed", municipality_id="131041").exists()


def test_a_bad_check_digit_is_shown_beside_the_field(client: Client, make_staff: StaffFactory) -> None:
    response = _login(client, "131017", "madoguchi")
    html = response.content.decode()
    assert response.status_code == 400
    assert 'id="id_lg_code_error"' in html
    assert "検査数字（6桁目）が正しくありません" in html


def test_five_failures_lock_the_account(client: Client, make_staff: StaffFactory) -> None:
    make_staff("131016", "madoguchi", Role.COUNTER)
    for _ in range(5):
        _login(client, "131016", "madoguchi", "wrong-password-123")
    locked = _login(client, "131016", "madoguchi")  # even the right password
    assert locked.status_code in (403, 429)
    assert "ログインを一時停止しています" in locked.content.decode()
    assert "_auth_user_id" not in client.session


def test_municipal_admins_must_pass_totp(client: Client, make_staff: StaffFactory) -> None:
    admin = make_staff("131016", "kanri", Role.MUNICIPAL_ADMIN)
    response = _login(client, "131016", "kanri")
    assert response["Location"] == "/login/mfa/"
    # Held at the second factor: no page, and no API through the session.
    assert client.get("/staff/")["Location"] == "/login/mfa/"
    assert client.get("/api/v1/staff").status_code == 401
    enrol = client.get("/login/mfa/").content.decode()
    assert 'id="totp-secret"' in enrol
    device = TOTPDevice.objects.get(user=admin, confirmed=False)
    wrong = client.post("/login/mfa/", {"token": "000000" if totp(device.bin_key) != 0 else "111111"})
    assert "確認コードが正しくありません" in wrong.content.decode()
    # django-otp throttles after a failure (1 s, doubling): wait it out as a person would.
    device.refresh_from_db()
    assert device.throttling_failure_count == 1
    TOTPDevice.objects.filter(pk=device.pk).update(throttling_failure_timestamp=None)
    ok = client.post("/login/mfa/", {"token": f"{totp(device.bin_key):06d}"})
    assert ok["Location"] == "/dashboard/"
    assert TOTPDevice.objects.get(user=admin).confirmed
    assert client.get("/staff/").status_code == 200
    assert client.get("/api/v1/staff").status_code == 200
    assert AuditRecord.objects.filter(action="accounts.mfa.enrolled").exists()


def test_operators_sign_in_with_an_empty_code_and_totp(client: Client, make_staff: StaffFactory) -> None:
    make_staff(None, "unyo", Role.OPERATOR)
    assert _login(client, "", "unyo")["Location"] == "/login/mfa/"


def test_session_and_csrf_cookies_are_httponly_and_samesite(client: Client, make_staff: StaffFactory, settings) -> None:  # type: ignore[no-untyped-def]
    make_staff("131016", "madoguchi", Role.COUNTER)
    response = _login(client, "131016", "madoguchi")
    session = response.cookies["sessionid"]
    assert session["httponly"]
    assert session["samesite"] == "Strict"


def test_production_settings_mark_cookies_secure_and_send_hsts() -> None:
    import os
    import subprocess
    import sys

    code = (
        "import django; django.setup(); from django.conf import settings as s; "
        "print(s.SESSION_COOKIE_SECURE, s.CSRF_COOKIE_SECURE, s.SECURE_HSTS_SECONDS > 0, s.DEBUG)"
    )
    env = {
        **os.environ,
        "LGCLOUD_ENV": "production",
        "LGCLOUD_SECRET_KEY": "x" * 50,
        "LGCLOUD_MASTER_KEY": "A" * 43 + "=",
        "DJANGO_SETTINGS_MODULE": "lgcloud.settings",
        "LGCLOUD_DATABASE_URL": "sqlite:///:memory:",
    }
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=60)
    assert out.stdout.split() == ["True", "True", "True", "False"], out.stderr


def test_production_refuses_to_start_without_a_secret_key() -> None:
    import os
    import subprocess
    import sys

    env = {**os.environ, "LGCLOUD_ENV": "production", "LGCLOUD_DATABASE_URL": "sqlite:///:memory:"}
    env.pop("LGCLOUD_SECRET_KEY", None)
    env.pop("DJANGO_SETTINGS_MODULE", None)
    out = subprocess.run(
        [sys.executable, "-m", "lgcloud", "check"], env=env, capture_output=True, text=True, timeout=60
    )
    assert out.returncode == 2
    assert "LGCLOUD_SECRET_KEY を設定してください" in out.stderr


def test_pages_send_a_content_security_policy(client: Client) -> None:
    response = client.get("/login/")
    csp = response["Content-Security-Policy"]
    assert "default-src 'self'" in csp
    assert "script-src 'self'" in csp
    assert "frame-ancestors 'none'" in csp
    assert response["X-Frame-Options"] == "DENY"


def test_forms_need_a_csrf_token(make_staff: StaffFactory) -> None:
    make_staff("131016", "madoguchi", Role.COUNTER)
    strict = Client(enforce_csrf_checks=True)
    response = _login(strict, "131016", "madoguchi")
    assert response.status_code == 403


def test_the_api_session_needs_csrf_for_writes(make_staff: StaffFactory) -> None:
    from tests.conftest import signed_in

    admin = make_staff("131016", "kanri", Role.MUNICIPAL_ADMIN)
    client = signed_in(Client(enforce_csrf_checks=True), admin)
    response = client.post(
        "/api/v1/staff", {"username": "x1", "display_name": "x", "roles": ["counter"]}, content_type="application/json"
    )
    assert response.status_code in (401, 403)


def test_logout_ends_the_session(client: Client, make_staff: StaffFactory) -> None:
    make_staff("131016", "madoguchi", Role.COUNTER)
    _login(client, "131016", "madoguchi")
    assert client.post("/logout/")["Location"] == "/login/"
    assert client.get("/dashboard/")["Location"].startswith("/login/")


def test_a_lost_authenticator_is_reset_by_another_admin(client: Client, make_staff: StaffFactory) -> None:
    from tests.conftest import signed_in

    lost = make_staff("131016", "kanri", Role.MUNICIPAL_ADMIN)
    other = make_staff("131016", "kanri2", Role.MUNICIPAL_ADMIN)
    TOTPDevice.objects.create(user=lost, name="phone", confirmed=True)
    admin_client = signed_in(Client(), other)
    response = admin_client.post(f"/staff/{lost.pk}/", {"op": "reset_mfa"})
    assert response.status_code == 302
    assert not TOTPDevice.objects.filter(user=lost).exists()
    assert AuditRecord.objects.filter(action="accounts.mfa.reset", subject_id=str(lost.pk)).exists()
    # Next sign-in enrols again.
    assert _login(client, "131016", "kanri")["Location"] == "/login/mfa/"
    assert 'id="totp-secret"' in client.get("/login/mfa/").content.decode()


def test_reset_mfa_command(make_staff: StaffFactory) -> None:
    from io import StringIO

    from django.core.management import call_command

    operator = make_staff(None, "unyo", Role.OPERATOR)
    TOTPDevice.objects.create(user=operator, name="phone", confirmed=True)
    out = StringIO()
    call_command("reset_mfa", "--username", "unyo", "--municipality", "", stdout=out)
    assert "1 件取り消しました" in out.getvalue()
    assert not TOTPDevice.objects.filter(user=operator).exists()
