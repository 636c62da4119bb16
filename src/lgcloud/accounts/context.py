"""Building the TenantContext of a signed-in member of staff."""

from __future__ import annotations

from django.http import HttpRequest

from lgcloud.core.middleware import current_request_id
from lgcloud.core.permissions import MFA_REQUIRED_ROLES
from lgcloud.core.tenancy import TenantContext

from .models import Staff

DEFAULT_PURPOSE = "staff.work"


def context_for(staff: Staff, *, purpose: str = DEFAULT_PURPOSE, request_id: str | None = None) -> TenantContext:
    return TenantContext(
        lg_code=staff.municipality_id,
        actor_id=staff.pk,
        actor_name=staff.display_name,
        roles=staff.roles,
        purpose=purpose,
        request_id=request_id or current_request_id(),
    )


def requires_mfa(staff: Staff) -> bool:
    return bool(staff.roles & MFA_REQUIRED_ROLES)


def is_fully_signed_in(request: HttpRequest) -> bool:
    """Signed in, and past the second factor where the roles require one."""
    user = request.user
    if not user.is_authenticated:
        return False
    if requires_mfa(user):
        # django-otp's middleware gives the user is_verified().
        return bool(getattr(user, "is_verified", lambda: False)())
    return True
