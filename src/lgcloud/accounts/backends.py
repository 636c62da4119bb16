"""Password sign-in for staff. Look-ups run in the platform scope: the tenant is not known yet."""

from __future__ import annotations

from typing import Any

from django.contrib.auth.backends import BaseBackend
from django.http import HttpRequest

from lgcloud.core.tenancy import platform_scope

from .models import Staff


class StaffBackend(BaseBackend):
    def authenticate(
        self, request: HttpRequest | None, username: str | None = None, password: str | None = None, **kwargs: Any
    ) -> Staff | None:
        if not username or password is None:
            return None
        with platform_scope():
            staff = (
                Staff.objects.select_related("municipality")
                .prefetch_related("role_assignments")
                .filter(login_id=username)
                .first()
            )
            if staff is None:
                # Spend the same time as a real check, so timing does not reveal accounts.
                Staff().set_password(password)
                return None
            # Inside the scope: check_password re-saves a hash made with outdated parameters.
            if staff.check_password(password) and staff.is_active:
                return staff
        return None

    def get_user(self, user_id: int) -> Staff | None:
        with platform_scope():
            return (
                Staff.objects.select_related("municipality")
                .prefetch_related("role_assignments")
                .filter(pk=user_id, is_active=True)
                .first()
            )
