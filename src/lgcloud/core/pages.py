"""Shared parts of staff pages: the guard, the one form-error helper, dates as people read them."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from datetime import date
from functools import wraps
from typing import Any

from django import forms
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.urls import reverse

from lgcloud.core import wareki
from lgcloud.core.permissions import Permission
from lgcloud.core.tenancy import TenantContext

View = Callable[..., HttpResponse]


def staff_page(permission: Permission) -> Callable[[View], View]:
    """Signed in (past MFA where required) and holding ``permission``; else the login page or 403.

    The staff middleware (accounts) sets ``request.tenant_ctx`` only for a member of
    staff who is fully signed in, so its presence is the sign-in check. The view
    receives the context as its second argument.
    """

    def decorator(view: View) -> View:
        @wraps(view)
        def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
            ctx: TenantContext | None = getattr(request, "tenant_ctx", None)
            if ctx is None:
                return redirect(f"{reverse('web:login')}?next={request.path}")
            if not ctx.has(permission):
                raise PermissionDenied
            return view(request, ctx, *args, **kwargs)

        return wrapper

    return decorator


def apply_errors(
    form: forms.Form,
    exc: ValidationError,
    *,
    aliases: Mapping[str, str] | None = None,
    persons: Sequence[forms.Form] = (),
) -> None:
    """Put an action's Japanese messages beside the fields they name; the rest go to the form's summary.

    ``aliases`` maps a key the action uses to the form's field (``household_head`` → ``new_head``);
    ``persons`` are the forms behind ``persons.<i>.<field>`` keys, in the order the action got them.
    """
    if not hasattr(exc, "error_dict"):
        form.add_error(None, exc.messages)
        return
    names = aliases or {}
    for key, errors in exc.message_dict.items():
        if key.startswith("persons."):
            _, index, field = key.split(".", 2)
            if index.isdigit() and int(index) < len(persons) and field in persons[int(index)].fields:
                persons[int(index)].add_error(field, errors)
                continue
        target = names.get(key, key)
        form.add_error(target if target in form.fields else None, errors)


def jdate(day: date | None) -> str:
    """「昭和55年4月1日（1980-04-01）」: 和暦 for people, 西暦 for matching the paper."""
    if day is None:
        return ""
    try:
        return f"{wareki.format_date(day)}（{day.isoformat()}）"
    except wareki.WarekiError:
        return day.isoformat()
