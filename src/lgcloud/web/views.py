"""Staff pages. Every page works without JavaScript; errors are Japanese, beside the field."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth import authenticate, logout
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import redirect, render
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_http_methods, require_POST

from lgcloud.accounts import access as accounts_access
from lgcloud.accounts import actions as accounts_actions
from lgcloud.accounts import mfa
from lgcloud.accounts import queries as accounts_queries
from lgcloud.accounts.context import context_for, is_fully_signed_in, requires_mfa
from lgcloud.accounts.identifiers import make_login_id
from lgcloud.audit.actions import record, record_platform
from lgcloud.audit.queries import AuditFilter, search_audit_log
from lgcloud.core.checkdigits import CheckDigitError, validate_lg_code
from lgcloud.core.pages import apply_errors, staff_page
from lgcloud.core.permissions import MFA_REQUIRED_ROLES, PlatformPermission, Role
from lgcloud.core.tenancy import TenantContext
from lgcloud.municipalities import actions as municipality_actions
from lgcloud.municipalities import queries as municipality_queries
from lgcloud.ops.health import check_health

from .forms import (
    ApiTokenForm,
    AuditFilterForm,
    LoginForm,
    MunicipalityCreateForm,
    MunicipalityEditForm,
    OtpForm,
    StaffCreateForm,
    StaffRolesForm,
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


@staff_page(PlatformPermission.STAFF_READ)
@require_http_methods(["GET", "POST"])
def staff_list(request: HttpRequest, ctx: TenantContext) -> HttpResponse:
    form = StaffCreateForm(request.POST or None)
    if request.method == "POST":
        ctx.require(PlatformPermission.STAFF_MANAGE)
        if form.is_valid():
            try:
                created = accounts_actions.create_staff(
                    ctx,
                    username=form.cleaned_data["username"],
                    display_name=form.cleaned_data["display_name"],
                    roles=[Role(r) for r in form.cleaned_data["roles"]],
                )
            except ValidationError as exc:
                apply_errors(form, exc)
            else:
                return render(
                    request, "web/staff_created.html", {"staff": created.staff, "password": created.generated_password}
                )
    staff = accounts_queries.list_staff(ctx)
    return render(
        request, "web/staff_list.html", {"staff_members": staff, "form": form}, status=400 if form.errors else 200
    )


@staff_page(PlatformPermission.STAFF_READ)
@require_http_methods(["GET", "POST"])
def staff_detail(request: HttpRequest, ctx: TenantContext, staff_id: int) -> HttpResponse:
    staff = accounts_access.get_staff_for_management(ctx, staff_id)  # 404 for other municipalities
    form = StaffRolesForm(initial={"roles": sorted(r.value for r in staff.roles)})
    new_password = None
    if request.method == "POST":
        ctx.require(PlatformPermission.STAFF_MANAGE)
        op = request.POST.get("op", "")
        try:
            if op == "roles":
                form = StaffRolesForm(request.POST)
                if form.is_valid():
                    accounts_actions.set_staff_roles(ctx, staff.pk, [Role(r) for r in form.cleaned_data["roles"]])
                    messages.success(request, "ロールを変更しました。")
                    return redirect("web:staff_detail", staff_id=staff.pk)
            elif op in ("activate", "deactivate"):
                accounts_actions.set_staff_active(ctx, staff.pk, op == "activate")
                messages.success(request, "有効にしました。" if op == "activate" else "無効にしました。")
                return redirect("web:staff_detail", staff_id=staff.pk)
            elif op == "reset_password":
                new_password = accounts_actions.reset_password(ctx, staff.pk)
            elif op == "reset_mfa":
                accounts_actions.reset_mfa(ctx, staff.pk)
                messages.success(request, "二要素認証をリセットしました。次回ログイン時に認証アプリを登録し直します。")
                return redirect("web:staff_detail", staff_id=staff.pk)
            else:
                raise Http404
        except ValidationError as exc:
            apply_errors(form, exc)
        staff = accounts_access.get_staff_for_management(ctx, staff_id)
    return render(
        request,
        "web/staff_detail.html",
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
            accounts_actions.revoke_api_token(ctx, token_id)
            messages.success(request, "トークンを失効させました。")
            return redirect("web:tokens")
        if form.is_valid():
            try:
                issued = accounts_actions.create_api_token(
                    ctx, ctx.actor_id or 0, name=form.cleaned_data["name"], days=form.cleaned_data["days"]
                )
            except ValidationError as exc:
                apply_errors(form, exc)
            else:
                form = ApiTokenForm()
    return render(
        request,
        "web/tokens.html",
        {
            "form": form,
            "issued": issued,
            "tokens": accounts_queries.list_own_tokens(ctx),
            "tokens_allowed": not (ctx.roles & MFA_REQUIRED_ROLES),
        },
        status=400 if form.errors else 200,
    )


@staff_page(PlatformPermission.AUDIT_READ)
def audit_log(request: HttpRequest, ctx: TenantContext) -> HttpResponse:
    form = AuditFilterForm(request.GET or None)
    page = None
    if not request.GET or form.is_valid():
        data = form.cleaned_data if request.GET else {}
        flt = AuditFilter(
            date_from=data.get("date_from"),
            date_to=data.get("date_to"),
            action=data.get("action", ""),
            actor=data.get("actor", ""),
            subject_id=data.get("subject_id", ""),
        )
        try:
            page_number = max(int(request.GET.get("page", "1")), 1)
        except ValueError:
            page_number = 1
        page = search_audit_log(ctx.with_purpose("audit"), flt, page_number)
    query = request.GET.copy()
    query.pop("page", None)
    return render(
        request,
        "web/audit_log.html",
        {"form": form, "page": page, "query": query.urlencode()},
        status=400 if form.errors else 200,
    )


@staff_page(PlatformPermission.PLATFORM_MUNICIPALITY_READ)
@require_http_methods(["GET", "POST"])
def operator_municipalities(request: HttpRequest, ctx: TenantContext) -> HttpResponse:
    form = MunicipalityCreateForm(request.POST or None)
    if request.method == "POST":
        ctx.require(PlatformPermission.PLATFORM_MUNICIPALITY_MANAGE)
        if form.is_valid():
            data = dict(form.cleaned_data)
            data["prefecture_code"] = data["lg_code"][:2]
            try:
                created = municipality_actions.create_municipality(ctx, **data)
            except ValidationError as exc:
                apply_errors(form, exc)
            else:
                messages.success(request, f"{created.name}（{created.lg_code}）を登録しました。")
                return redirect("web:operator_municipality", lg_code=created.lg_code)
    q = request.GET.get("q", "").strip()[:40]
    prefecture_code = request.GET.get("prefecture", "")
    rows = municipality_queries.list_municipalities(q=q or None, prefecture_code=prefecture_code or None)
    paginator = Paginator(rows, 100)
    page = paginator.get_page(request.GET.get("page"))
    query = request.GET.copy()
    query.pop("page", None)
    return render(
        request,
        "web/operator_municipalities.html",
        {"form": form, "page": page, "q": q, "prefecture": prefecture_code, "query": query.urlencode()},
        status=400 if form.errors else 200,
    )


@staff_page(PlatformPermission.PLATFORM_MUNICIPALITY_READ)
@require_http_methods(["GET", "POST"])
def operator_municipality(request: HttpRequest, ctx: TenantContext, lg_code: str) -> HttpResponse:
    municipality = municipality_queries.get_municipality(lg_code)
    if municipality is None:
        raise Http404
    form = MunicipalityEditForm(
        request.POST or None, initial={"kyuchi": municipality.kyuchi, "on_platform": municipality.on_platform}
    )
    if request.method == "POST":
        ctx.require(PlatformPermission.PLATFORM_MUNICIPALITY_MANAGE)
        if form.is_valid():
            try:
                municipality_actions.update_municipality(ctx, lg_code, **form.cleaned_data)
            except ValidationError as exc:
                apply_errors(form, exc)
            else:
                messages.success(request, "団体情報を更新しました。")
                return redirect("web:operator_municipality", lg_code=lg_code)
    return render(
        request,
        "web/operator_municipality.html",
        {"municipality": municipality, "form": form},
        status=400 if form.errors else 200,
    )


@staff_page(PlatformPermission.PLATFORM_HEALTH_READ)
def operator_health(request: HttpRequest, ctx: TenantContext) -> HttpResponse:
    on, off = municipality_queries.count_on_platform()
    return render(
        request,
        "web/operator_health.html",
        {
            "health": check_health(),
            "on_platform": on,
            "listed": on + off,
            "by_kind": municipality_queries.count_by_kind(),
        },
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
