"""Shared fixtures: municipalities, staff and signed-in clients, built through actions."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date

import pytest
from django.test import Client
from django_otp import DEVICE_ID_SESSION_KEY
from django_otp.plugins.otp_totp.models import TOTPDevice

from lgcloud.accounts.actions import create_staff
from lgcloud.accounts.models import Staff
from lgcloud.core.permissions import Role
from lgcloud.core.tenancy import TenantContext
from lgcloud.municipalities.actions import choose_default_apps, load_municipalities, shipped_rows

CHIYODA = "131016"
SHINJUKU = "131041"
HACHIOJI = "132012"
PASSWORD = "correct-horse-battery-staple"
SINCE = date(2000, 1, 1)  # the municipalities' apps are in force since long before any test date


@pytest.fixture
def tokyo(db: None) -> list[str]:
    """Tokyo's 62 municipalities, loaded with the real loader."""
    rows = [r for r in shipped_rows() if r["prefecture_code"] == "13"]
    system = TenantContext.system(None, purpose="test")
    load_municipalities(system, rows)
    codes = [r["lg_code"] for r in rows]
    # Each uses the platform's default implementation of every 業務 (the app directory).
    choose_default_apps(system, codes, effective_from=SINCE)
    return codes


StaffFactory = Callable[..., Staff]


@pytest.fixture
def make_staff(tokyo: list[str]) -> StaffFactory:
    def make(lg_code: str | None, username: str, *roles: Role, password: str = PASSWORD) -> Staff:
        ctx = TenantContext.system(lg_code, purpose="test")
        return create_staff(
            ctx, username=username, display_name=f"{username} 職員", roles=roles, password=password
        ).staff

    return make


def signed_in(client: Client, staff: Staff) -> Client:
    """A client signed in as ``staff``, past the second factor when the roles need one."""
    client.force_login(staff, backend="lgcloud.accounts.backends.StaffBackend")
    if staff.roles & {Role.MUNICIPAL_ADMIN, Role.OPERATOR}:
        device = TOTPDevice.objects.create(user=staff, name="test", confirmed=True)
        session = client.session
        session[DEVICE_ID_SESSION_KEY] = device.persistent_id
        session.save()
    return client


@pytest.fixture
def login_as(client: Client) -> Callable[[Staff], Client]:
    def login(staff: Staff) -> Client:
        return signed_in(Client(), staff)

    return login
