"""職員・ロール管理 and the personal API tokens: pages of the accounts app (no JavaScript needed)."""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_http_methods

from lgcloud.core.pages import apply_errors, staff_page
from lgcloud.core.permissions import MFA_REQUIRED_ROLES, PlatformPermission, Role
from lgcloud.core.tenancy import TenantContext

from . import access, actions, queries
from .forms import ApiTokenForm, StaffCreateForm, StaffRolesForm


@staff_page(PlatformPermission.STAFF_READ)
@require_http_methods(["GET", "POST"])
def staff_list(request: HttpRequest, ctx: TenantContext) -> HttpResponse:
    form = StaffCreateForm(request.POST or None)
    if request.method == "POST":
        ctx.require(PlatformPermission.STAFF_MANAGE)
        if form.is_valid():
            try:
                created = actions.create_staff(
                    ctx,
                    username=form.cleaned_data["username"],
                    display_name=form.cleaned_data["display_name"],
                    roles=[Role(r) for r in form.cleaned_data["roles"]],
                )
            except ValidationError as exc:
                apply_errors(form, exc)
            else:
                return render(
                    request,
                    "accounts/staff_created.html",
                    {"staff": created.staff, "password": created.generated_password},
                )
    staff = queries.list_staff(ctx)
    return render(
        request, "accounts/staff_list.html", {"staff_members": staff, "form": form}, status=400 if form.errors else 200
    )


@staff_page(PlatformPermission.STAFF_READ)
@require_http_methods(["GET", "POST"])
def staff_detail(request: HttpRequest, ctx: TenantContext, staff_id: int) -> HttpResponse:
    staff = access.get_staff_for_management(ctx, staff_id)  # 404 for other municipalities
    form = StaffRolesForm(initial={"roles": sorted(r.value for r in staff.roles)})
    new_password = None
    if request.method == "POST":
        ctx.require(PlatformPermission.STAFF_MANAGE)
        op = request.POST.get("op", "")
        try:
            if op == "roles":
                form = StaffRolesForm(request.POST)
                if form.is_valid():
                    actions.set_staff_roles(ctx, staff.pk, [Role(r) for r in form.cleaned_data["roles"]])
                    messages.success(request, "ロールを変更しました。")
                    return redirect("accounts:staff_detail", staff_id=staff.pk)
            elif op in ("activate", "deactivate"):
                actions.set_staff_active(ctx, staff.pk, op == "activate")
                messages.success(request, "有効にしました。" if op == "activate" else "無効にしました。")
                return redirect("accounts:staff_detail", staff_id=staff.pk)
            elif op == "reset_password":
                new_password = actions.reset_password(ctx, staff.pk)
            elif op == "reset_mfa":
                actions.reset_mfa(ctx, staff.pk)
                messages.success(request, "二要素認証をリセットしました。次回ログイン時に認証アプリを登録し直します。")
                return redirect("accounts:staff_detail", staff_id=staff.pk)
            else:
                raise Http404
        except ValidationError as exc:
            apply_errors(form, exc)
        staff = access.get_staff_for_management(ctx, staff_id)
    return render(
        request,
        "accounts/staff_detail.html",
        {"member": staff, "form": form, "new_password": new_password},
        status=400 if form.errors else 200,
    )


@staff_page(PlatformPermission.DASHBOARD_VIEW)
@require_http_methods(["GET", "POST"])
def tokens(request: HttpRequest, ctx: TenantContext) -> HttpResponse:
    form = ApiTokenForm(None if request.POST.get("op") == "revoke" else (request.POST or None))
    issued = None
    if request.method == "POST":
        if request.POST.get("op") == "revoke":
            try:
                token_id = int(request.POST.get("token_id", ""))
            except ValueError:
                raise Http404 from None
            actions.revoke_api_token(ctx, token_id)
            messages.success(request, "トークンを失効させました。")
            return redirect("accounts:tokens")
        if form.is_valid():
            try:
                issued = actions.create_api_token(
                    ctx, ctx.actor_id or 0, name=form.cleaned_data["name"], days=form.cleaned_data["days"]
                )
            except ValidationError as exc:
                apply_errors(form, exc)
            else:
                form = ApiTokenForm()
    return render(
        request,
        "accounts/tokens.html",
        {
            "form": form,
            "issued": issued,
            "tokens": queries.list_own_tokens(ctx),
            "tokens_allowed": not (ctx.roles & MFA_REQUIRED_ROLES),
        },
        status=400 if form.errors else 200,
    )
