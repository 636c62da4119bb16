"""Sign-in identifiers (no Django imports: pages and scripts share them)."""

from __future__ import annotations

PLATFORM_LOGIN_PREFIX = "platform"


def make_login_id(lg_code: str | None, username: str) -> str:
    """Usernames are unique within a municipality, so the sign-in key carries the code.

    Two municipalities can both have a ``tanaka`` without either learning of the other.
    """
    return f"{lg_code or PLATFORM_LOGIN_PREFIX}/{username}"
