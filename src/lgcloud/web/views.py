"""Staff pages. Every page works without JavaScript; errors are Japanese, beside the field."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth import authenticate, logout
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import redirect, render
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_http_methods, require_POST

from lgcloud.accounts import actions as accounts_actions
from lgcloud.accounts import mfa
from lgcloud.accounts.context import context_for, is_fully_signed_in, requires_mfa
from lgcloud.accounts.identifiers import make_login_id
from lgcloud.audit.actions import record, record_platform
from lgcloud.core.checkdigits import CheckDigitError, validate_lg_code
from lgcloud.core.pages import staff_page
from lgcloud.core.permissions import PlatformPermission, Role
from lgcloud.core.tenancy import TenantContext
from lgcloud.municipalities import queries as municipality_queries

from .forms import (
    LoginForm,
    OtpForm,
)


def home(request: HttpRequest) -> HttpResponse:
    return redirect("web:dashboard" if is_fully_signed_in(request) else "web:login")


@require_http_methods(["GET", "POST"])
def login_view(request: HttpRequest) -> HttpResponse:
    if is_fully_signed_in(request):
        return redirect("web:dashboard")
    form = LoginForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        lg_code = form.cleaned_data["lg_code"].strip()
        username = form.cleaned_data["username"].strip()
        try:
            if lg_code:
                validate_lg_code(lg_code)
        except CheckDigitError as exc:
            form.add_error("lg_code", exc.message)
        else:
            login_id = make_login_id(lg_code or None, username)
            staff = authenticate(request, username=login_id, password=form.cleaned_data["password"])
            if staff is None:
                if getattr(request, "axes_locked_out", False):
                    return render(request, "web/locked_out.html", status=429)
                _record_failed_sign_in(request, lg_code, login_id)
                form.add_error(None, "団体コード、ユーザー名またはパスワードが正しくありません。")
            else:
                accounts_actions.start_session(context_for(staff, purpose="accounts.login"), request, staff)
                if requires_mfa(staff):
                    return redirect("web:login_mfa")
                return _redirect_next(request)
    return render(request, "web/login.html", {"form": form}, status=400 if form.errors else 200)


def _record_failed_sign_in(request: HttpRequest, lg_code: str, login_id: str) -> None:
    ctx = TenantContext.system(None, purpose="accounts.login", actor_name="anonymous")
    if lg_code and municipality_queries.municipality_exists(lg_code):
        from dataclasses import replace

        from lgcloud.core.tenancy import bound

        tenant_ctx = replace(ctx, lg_code=lg_code)
        with bound(tenant_ctx):
            record(tenant_ctx, "accounts.session.failed", subject_type="login_id", subject_id=login_id)
    else:
        record_platform(ctx, "accounts.session.failed", subject_type="login_id", subject_id=login_id)


def _redirect_next(request: HttpRequest) -> HttpResponse:
    target = request.GET.get("next", "")
    if target and url_has_allowed_host_and_scheme(target, {request.get_host()}, require_https=request.is_secure()):
        return HttpResponseRedirect(target)
    return redirect("web:dashboard")


@require_http_methods(["GET", "POST"])
def login_mfa(request: HttpRequest) -> HttpResponse:
    user = request.user
    if not user.is_authenticated:
        return redirect("web:login")
    if not requires_mfa(user) or is_fully_signed_in(request):
        return redirect("web:dashboard")
    enrollment = None if mfa.has_confirmed_device(user) else mfa.enrollment_for(user)
    form = OtpForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        if mfa.verify(request, user, form.cleaned_data["token"]):
            return redirect("web:dashboard")
        form.add_error(
            "token", "確認コードが正しくありません。時刻のずれがないか確認し、新しいコードを入力してください。"
        )
    return render(
        request, "web/login_mfa.html", {"form": form, "enrollment": enrollment}, status=400 if form.errors else 200
    )


@require_POST
def logout_view(request: HttpRequest) -> HttpResponse:
    if request.user.is_authenticated:
        accounts_actions.record_sign_out(context_for(request.user, purpose="accounts.logout"), request.user)
    logout(request)
    messages.info(request, "ログアウトしました。")
    return redirect("web:login")


@staff_page(PlatformPermission.DASHBOARD_VIEW)
def dashboard(request: HttpRequest, ctx: TenantContext) -> HttpResponse:
    municipality = municipality_queries.get_municipality(ctx.lg_code) if ctx.lg_code else None
    return render(
        request, "web/dashboard.html", {"municipality": municipality, "roles": sorted(ctx.roles), "Role": Role}
    )


def not_found(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    return render(
        request,
        "web/error.html",
        {"title": "ページが見つかりません", "message": "お探しのページ、またはデータは見つかりません。"},
        status=404,
    )


def forbidden(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    return render(
        request,
        "web/error.html",
        {
            "title": "権限がありません",
            "message": "このページを表示する権限がありません。必要な場合は団体管理者にご相談ください。",
        },
        status=403,
    )


def server_error(request: HttpRequest) -> HttpResponse:
    return render(
        request,
        "web/error.html",
        {
            "title": "エラーが発生しました",
            "message": "時間をおいて再度お試しください。続く場合は運用者へご連絡ください。",
        },
        status=500,
    )
