"""Pages of usage, charges and the service view (団体管理者: its own municipality; 運用者: all).

Every page works without JavaScript; the month is chosen with a plain GET form.
"""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.template.loader import render_to_string
from django.utils import timezone
from django.views.decorators.http import require_http_methods

from lgcloud.core.pages import apply_errors, staff_page
from lgcloud.core.permissions import PlatformPermission
from lgcloud.core.tenancy import TenantContext
from lgcloud.municipalities.queries import get_municipality

from . import actions, queries
from .charges import MonthCharges, charge_csv, compare, compute_month, formula_exists
from .forms import BaselineForm, MonthForm
from .service import WINDOW_DAYS, all_services, service, slo


def _month(request: HttpRequest) -> tuple[MonthForm, str]:
    """The month asked for (this month by default) and the form that shows it or its error."""
    current = timezone.localdate().strftime("%Y-%m")
    form = MonthForm(request.GET if "month" in request.GET else {"month": current})
    if not form.is_valid():
        return form, current
    month = form.cleaned_data["month"]
    try:
        formula_exists(month)
    except ValueError as exc:
        form.add_error("month", str(exc))
        return form, current
    return form, month


def _csv_response(text: str, filename: str) -> HttpResponse:
    # A BOM so that spreadsheet software on Windows reads UTF-8 (Excel's habit).
    response = HttpResponse("\ufeff" + text, content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response


def _report_context(month: MonthCharges, lg_code: str) -> dict[str, object]:
    charge = month.charges.get(lg_code)
    if charge is None:
        raise Http404("この月の利用料はありません。")
    ctx = TenantContext.system(lg_code, purpose="ops.charges")
    baseline = queries.baseline(ctx)
    return {
        "month": month,
        "charge": charge,
        "baseline": baseline,
        "comparison": compare(charge, baseline.annual_yen if baseline else None, month.first),
    }


@staff_page(PlatformPermission.USAGE_READ)
@require_http_methods(["GET", "POST"])
def usage(request: HttpRequest, ctx: TenantContext) -> HttpResponse:
    """自団体の利用量と利用料（明細、CSV・PDF、平成30年度との比較）."""
    form, month = _month(request)
    baseline_form = BaselineForm(request.POST or None)
    if request.method == "POST":
        ctx.require(PlatformPermission.USAGE_MANAGE)
        if baseline_form.is_valid():
            try:
                actions.set_baseline(
                    ctx, annual_yen=baseline_form.cleaned_data["annual_yen"], note=baseline_form.cleaned_data["note"]
                )
            except ValidationError as exc:
                apply_errors(baseline_form, exc)
            else:
                messages.success(request, "平成30年度の経費を登録しました。")
                return redirect(f"{request.path}?month={month}")
    charges = compute_month(month)
    context = _report_context(charges, ctx.tenant_code)
    status = 400 if (form.errors or baseline_form.errors) else 200
    return render(
        request,
        "ops/usage.html",
        {**context, "form": form, "baseline_form": baseline_form, "selected": month},
        status=status,
    )


@staff_page(PlatformPermission.USAGE_READ)
def usage_csv(request: HttpRequest, ctx: TenantContext, month: str) -> HttpResponse:
    return _report_file(ctx.tenant_code, month, "csv")


@staff_page(PlatformPermission.USAGE_READ)
def usage_pdf(request: HttpRequest, ctx: TenantContext, month: str) -> HttpResponse:
    return _report_file(ctx.tenant_code, month, "pdf")


def _report_file(lg_code: str, month: str, kind: str) -> HttpResponse:
    try:
        charges = compute_month(month)
    except ValueError:
        raise Http404 from None
    context = _report_context(charges, lg_code)
    name = f"lgcloud-charge-{lg_code}-{month}"
    if kind == "csv":
        return _csv_response(charge_csv(charges.charges[lg_code], charges), f"{name}.csv")
    from weasyprint import HTML
    from weasyprint.urls import URLFetcher

    html = render_to_string("ops/charge_pdf.html", {**context, "issued_on": timezone.localdate()})
    pdf = HTML(string=html, url_fetcher=URLFetcher(allowed_protocols={"data"}, fail_on_errors=True)).write_pdf()
    response = HttpResponse(bytes(pdf), content_type="application/pdf")
    response["Content-Disposition"] = f'attachment; filename="{name}.pdf"'
    return response


@staff_page(PlatformPermission.USAGE_READ)
def service_view(request: HttpRequest, ctx: TenantContext) -> HttpResponse:
    """自団体のサービス状況（業務ごとの応答時間・エラー率・滞留・連携）と SLO."""
    municipality = get_municipality(ctx.tenant_code)
    view = service(ctx, municipality.name if municipality else ctx.tenant_code)
    return render(
        request,
        "ops/service.html",
        {"views": [view], "slo": slo(view.end), "window_days": WINDOW_DAYS, "own": True},
    )


# --- the operator --------------------------------------------------------------------------------


@staff_page(PlatformPermission.PLATFORM_USAGE_READ)
def operator_usage(request: HttpRequest, ctx: TenantContext) -> HttpResponse:
    """全団体の利用料（合計が基盤の経費と一致すること）."""
    form, month = _month(request)
    charges = compute_month(month)
    if request.GET.get("format") == "csv":
        text = "".join(charge_csv(c, charges) for c in charges.charges.values())
        return _csv_response(text, f"lgcloud-charges-{month}.csv")
    rows = sorted(charges.charges.values(), key=lambda c: (-c.total_yen, c.lg_code))
    return render(
        request,
        "ops/operator_usage.html",
        {"month": charges, "rows": rows, "form": form, "selected": month},
        status=400 if form.errors else 200,
    )


@staff_page(PlatformPermission.PLATFORM_USAGE_READ)
def operator_usage_detail(request: HttpRequest, ctx: TenantContext, lg_code: str) -> HttpResponse:
    form, month = _month(request)
    if get_municipality(lg_code) is None:
        raise Http404
    context = _report_context(compute_month(month), lg_code)
    return render(
        request,
        "ops/operator_usage_detail.html",
        {**context, "form": form, "selected": month},
        status=400 if form.errors else 200,
    )


@staff_page(PlatformPermission.PLATFORM_HEALTH_READ)
def operator_service(request: HttpRequest, ctx: TenantContext) -> HttpResponse:
    """全団体・業務のサービス状況と警告の一覧."""
    views = all_services(ctx.actor_name)
    active = [v for v in views if any(g.requests for g in v.gyomu) or v.alerts]
    alerts = [a for v in views for a in v.alerts]
    return render(
        request,
        "ops/service.html",
        {
            "views": active,
            "alerts": alerts,
            "slo": slo(timezone.localdate()),
            "window_days": WINDOW_DAYS,
            "quiet": len(views) - len(active),
            "own": False,
        },
    )
