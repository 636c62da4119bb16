"""The key django-axes locks on: the sign-in id (団体コード/ユーザー名), however it arrives."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest

from .identifiers import make_login_id


def login_id_for_axes(request: HttpRequest, credentials: dict[str, Any] | None = None) -> str | None:
    # From authenticate(): the backend already got the composed sign-in id.
    if credentials and credentials.get("username"):
        return str(credentials["username"])
    # From the login form itself (axes checks the lock before the view runs).
    username = request.POST.get("username", "").strip()
    if not username:
        return None
    return make_login_id(request.POST.get("lg_code", "").strip() or None, username)
