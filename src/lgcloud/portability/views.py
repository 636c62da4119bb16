"""全件出力の申請 pages: the list, the request form, and one request with approve / reject / cancel.

Thin: reads through approvals.queries/access, writes through approvals.actions. Every
page works without JavaScript; each button is shown only to who may press it, and the
action checks again. The bundle is never offered for download: the page names its
folder on the server, its counts and SHA-256 (moving it is an operator procedure).
"""

from __future__ import annotations

from django.conf import settings
from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_http_methods

from lgcloud.core.pages import apply_errors, staff_page
from lgcloud.core.permissions import PlatformPermission
from lgcloud.core.problems import Problem
from lgcloud.core.tenancy import TenantContext

from .approvals import access, actions, queries
from .forms import ExportRequestForm, RejectForm

REQUEST = access.REQUEST


def _rows(ctx: TenantContext) -> list[dict[str, object]]:
    return [
        {"req": r, "state": queries.shown_state(ctx, r), "allowed": queries.allowed_steps(ctx, r)}
        for r in queries.list_export_requests(ctx)
    ]


@staff_page(PlatformPermission.DASHBOARD_VIEW)
def export_list(request: HttpRequest, ctx: TenantContext) -> HttpResponse:
    access.require_see(ctx)
    return render(request, "portability/export_list.html", {"rows": _rows(ctx), "expiry_days": actions.EXPIRY.days})


@staff_page(REQUEST)
@require_http_methods(["GET", "POST"])
def export_new(request: HttpRequest, ctx: TenantContext) -> HttpResponse:
    form = ExportRequestForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            req = actions.request_export(
                ctx,
                purpose=form.cleaned_data["purpose"],
                include_individual_numbers=form.cleaned_data["include_individual_numbers"],
            )
        except ValidationError as exc:
            apply_errors(form, exc)
        else:
            messages.success(request, f"全件出力を申請しました（申請番号 {req.pk}）。別の職員の承認を待っています。")
            return redirect("portability:export_detail", request_id=req.pk)
    return render(
        request,
        "portability/export_new.html",
        {"form": form, "expiry_days": actions.EXPIRY.days},
        status=400 if form.errors else 200,
    )


@staff_page(PlatformPermission.DASHBOARD_VIEW)
@require_http_methods(["GET", "POST"])
def export_detail(request: HttpRequest, ctx: TenantContext, request_id: int) -> HttpResponse:
    req = access.get_export_request(ctx, request_id)  # 404 for another municipality's
    reject_form = RejectForm()
    problem: Problem | None = None
    if request.method == "POST":
        op = request.POST.get("op", "")
        try:
            if op == "approve":
                actions.approve_export(ctx, req.pk)
                if actions.run_if_small(ctx, req.pk):
                    done = access.get_export_request(ctx, req.pk)
                    if done.state == done.State.COMPLETED:
                        messages.success(request, "承認し、出力しました。")
                    else:
                        messages.error(request, "承認しましたが、出力に失敗しました。エラーを確認してください。")
                else:
                    messages.success(
                        request, "承認しました。出力はバックグラウンドで実行されます（この画面で状態を確認できます）。"
                    )
                return redirect("portability:export_detail", request_id=req.pk)
            if op == "reject":
                reject_form = RejectForm(request.POST)
                if reject_form.is_valid():
                    actions.reject_export(ctx, req.pk, reason=reject_form.cleaned_data["reason"])
                    messages.success(request, "申請を却下しました。")
                    return redirect("portability:export_detail", request_id=req.pk)
            elif op == "cancel":
                actions.cancel_export(ctx, req.pk)
                messages.success(request, "申請を取り消しました。")
                return redirect("portability:export_detail", request_id=req.pk)
            else:
                raise Http404
        except ValidationError as exc:
            apply_errors(reject_form, exc)
        except Problem as exc:
            if exc.status == 404:
                raise Http404 from None
            problem = exc
        req = access.get_export_request(ctx, request_id)
    failed = bool(reject_form.errors) or problem is not None
    return render(
        request,
        "portability/export_detail.html",
        {
            "req": req,
            "state": queries.shown_state(ctx, req),
            "allowed": queries.allowed_steps(ctx, req),
            "job": queries.job_of(ctx, req),
            "reject_form": reject_form,
            "problem": problem,
            "export_dir": settings.EXPORT_DIR,
            "expiry_days": actions.EXPIRY.days,
        },
        status=(problem.status if problem is not None else 400) if failed else 200,
    )
