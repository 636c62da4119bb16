"""団体管理 (the operator's municipality list) and the app directory's pages."""

from __future__ import annotations

from datetime import date
from typing import Any

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.views.decorators.http import require_http_methods

from lgcloud.contract import GYOMU
from lgcloud.contract.discovery import installed
from lgcloud.core.pages import apply_errors, staff_page
from lgcloud.core.permissions import PlatformPermission
from lgcloud.core.tenancy import TenantContext

from . import actions, queries
from .forms import AppDecisionForm, AppRequestForm, MunicipalityCreateForm, MunicipalityEditForm
from .queries import AppChoice


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
                created = actions.create_municipality(ctx, **data)
            except ValidationError as exc:
                apply_errors(form, exc)
            else:
                messages.success(request, f"{created.name}（{created.lg_code}）を登録しました。")
                return redirect("municipalities:operator_detail", lg_code=created.lg_code)
    q = request.GET.get("q", "").strip()[:40]
    prefecture_code = request.GET.get("prefecture", "")
    rows = queries.list_municipalities(q=q or None, prefecture_code=prefecture_code or None)
    paginator = Paginator(rows, 100)
    page = paginator.get_page(request.GET.get("page"))
    query = request.GET.copy()
    query.pop("page", None)
    return render(
        request,
        "municipalities/operator_list.html",
        {"form": form, "page": page, "q": q, "prefecture": prefecture_code, "query": query.urlencode()},
        status=400 if form.errors else 200,
    )


@staff_page(PlatformPermission.PLATFORM_MUNICIPALITY_READ)
@require_http_methods(["GET", "POST"])
def operator_municipality(request: HttpRequest, ctx: TenantContext, lg_code: str) -> HttpResponse:
    municipality = queries.get_municipality(lg_code)
    if municipality is None:
        raise Http404
    form = MunicipalityEditForm(
        request.POST or None, initial={"kyuchi": municipality.kyuchi, "on_platform": municipality.on_platform}
    )
    if request.method == "POST":
        ctx.require(PlatformPermission.PLATFORM_MUNICIPALITY_MANAGE)
        if form.is_valid():
            try:
                actions.update_municipality(ctx, lg_code, **form.cleaned_data)
            except ValidationError as exc:
                apply_errors(form, exc)
            else:
                messages.success(request, "団体情報を更新しました。")
                return redirect("municipalities:operator_detail", lg_code=lg_code)
    return render(
        request,
        "municipalities/operator_detail.html",
        {"municipality": municipality, "form": form},
        status=400 if form.errors else 200,
    )


# -- the app directory --------------------------------------------------------------------------


def _implementation_choices() -> list[tuple[str, str]]:
    return [
        (m.id, f"{GYOMU[m.gyomu].code} {GYOMU[m.gyomu].name} — {m.name}（{m.vendor}、版 {m.version}）")
        for m in sorted(installed().values(), key=lambda m: (m.gyomu, m.id))
        if m.gyomu
    ]


def _directory_rows(lg_code: str, choices: list[AppChoice], today: date) -> list[dict[str, Any]]:
    """One row per 業務 that has an implementation here or a choice: in use now, scheduled, requested."""
    apps = installed()
    active = queries.active_apps(lg_code, today)
    gyomu_codes = sorted({m.gyomu for m in apps.values() if m.gyomu} | {c.gyomu for c in choices})
    rows = []
    for code in gyomu_codes:
        mine = [c for c in choices if c.gyomu == code]
        current = next((c for c in mine if c.state == AppChoice.State.APPROVED and c.effective_from <= today), None)
        rows.append(
            {
                "gyomu": GYOMU[code],
                "active": apps.get(active[code]) if code in active else None,
                "since": current.effective_from if current else None,
                "scheduled": [c for c in mine if c.state == AppChoice.State.APPROVED and c.effective_from > today],
                "requested": [c for c in mine if c.state == AppChoice.State.REQUESTED],
                "implementations": [m for m in apps.values() if m.gyomu == code],
            }
        )
    return rows


@staff_page(PlatformPermission.APPS_MANAGE)
@require_http_methods(["GET", "POST"])
def apps(request: HttpRequest, ctx: TenantContext) -> HttpResponse:
    """業務アプリ: what the municipality uses for each 業務, and its requests to use another."""
    form = AppRequestForm(
        request.POST if request.POST.get("op") == "request" else None, implementations=_implementation_choices()
    )
    if request.method == "POST":
        op = request.POST.get("op")
        try:
            if op == "withdraw":
                actions.withdraw_app_request(ctx, int(request.POST.get("choice_id") or 0))
                messages.success(request, "申請を取り下げました。")
                return redirect("municipalities:apps")
            if op == "request" and form.is_valid():
                m = installed()[form.cleaned_data["app_id"]]
                actions.request_app(
                    ctx,
                    gyomu=m.gyomu,
                    app_id=m.id,
                    effective_from=form.cleaned_data["effective_from"],
                    note=form.cleaned_data["note"],
                )
                messages.success(request, f"{m.gyomu_name}に {m.name} を使う申請をしました。運用者の承認を待ちます。")
                return redirect("municipalities:apps")
            if op not in ("withdraw", "request"):
                raise Http404
        except ValueError:
            raise Http404 from None
        except ValidationError as exc:
            apply_errors(form, exc)
    today = timezone.localdate()
    choices = queries.app_choices(ctx)
    return render(
        request,
        "municipalities/apps.html",
        {"rows": _directory_rows(ctx.tenant_code, choices, today), "history": choices, "form": form},
        status=400 if form.errors else 200,
    )


@staff_page(PlatformPermission.PLATFORM_APPS_APPROVE)
@require_http_methods(["GET", "POST"])
def operator_apps(request: HttpRequest, ctx: TenantContext) -> HttpResponse:
    """業務アプリの承認: the installed implementations, who uses each, and the requests to decide."""
    failed: dict[int, AppDecisionForm] = {}
    if request.method == "POST":
        try:
            choice_id = int(request.POST.get("choice_id", ""))
        except ValueError:
            raise Http404 from None
        decision = request.POST.get("decision")
        if decision not in ("approve", "reject"):
            raise Http404
        form = AppDecisionForm(request.POST, prefix=f"c{choice_id}")
        if form.is_valid():
            approve = decision == "approve"
            try:
                choice = actions.decide_app_request(ctx, choice_id, approve=approve, reason=form.cleaned_data["reason"])
            except ValidationError as exc:
                apply_errors(form, exc)
            else:
                verb = "承認" if approve else "却下"
                messages.success(request, f"{choice.municipality_id} の申請（{choice.app_id}）を{verb}しました。")
                return redirect("municipalities:operator_apps")
        failed[choice_id] = form
    users = queries.app_users(ctx)
    implementations = [
        {"m": m, "gyomu": GYOMU.get(m.gyomu), "users": users.get(m.id, [])}
        for m in sorted(installed().values(), key=lambda m: (m.gyomu, m.id))
    ]
    pending = [
        {
            "choice": c,
            "form": failed.get(c.pk) or AppDecisionForm(prefix=f"c{c.pk}"),
            "app": installed().get(c.app_id),
        }
        for c in queries.pending_app_requests(ctx)
    ]
    return render(
        request,
        "municipalities/operator_apps.html",
        {"implementations": implementations, "pending": pending},
        status=400 if failed else 200,
    )
