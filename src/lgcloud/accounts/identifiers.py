"""Sign-in identifiers, shared by models, pages and scripts."""

from __future__ import annotations

from django.core.validators import RegexValidator

PLATFORM_LOGIN_PREFIX = "platform"

username_validator = RegexValidator(
    r"^[a-z0-9][a-z0-9._-]{1,63}$",
    "ユーザー名は半角英小文字・数字・「.」「_」「-」で2〜64文字にしてください（先頭は英数字）。",
    code="invalid_username",
)


def make_login_id(lg_code: str | None, username: str) -> str:
    """Usernames are unique within a municipality, so the sign-in key carries the code.

    Two municipalities can both have a ``tanaka`` without either learning of the other.
    """
    return f"{lg_code or PLATFORM_LOGIN_PREFIX}/{username}"
