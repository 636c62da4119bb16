"""個人住民税 pages: the year's assessments, one taxpayer's breakdown, the 税額決定通知書, CSV import.

Thin: reads through tax.queries, writes through tax.actions. Every page works without JavaScript.
The yearly assessment itself runs as a batch job (``lgcloud tax_assess``), shown on the job pages.
"""

from __future__ import annotations

from django import forms
from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.views.decorators.http import require_http_methods

from lgcloud.core.pages import staff_page
from lgcloud.core.tenancy import TenantContext

from . import actions, queries
from .csvio import template
from .permissions import TaxPermission

READ = TaxPermission.ASSESSMENT_READ
WRITE = TaxPermission.ASSESSMENT_WRITE


class YearForm(forms.Form):
    fiscal_year = forms.IntegerField(label="年度（西暦）", min_value=2014, max_value=2100, required=False)
    atena_number = forms.CharField(label="宛名番号", max_length=10, required=False)
    page = forms.IntegerField(min_value=1, required=False, widget=forms.HiddenInput)


class ImportForm(forms.Form):
    fiscal_year = forms.IntegerField(label="年度（西暦）", min_value=2014, max_value=2100)
    file = forms.FileField(
        label="申告データ（CSV、UTF-8）", help_text="1行目は列名です。様式はひな形をダウンロードしてください。"
    )


def _default_year() -> int:
    today = timezone.localdate()
    return today.year if today.month >= 4 else today.year - 1


@staff_page(READ)
@require_http_methods(["GET", "POST"])
def assessments(request: HttpRequest, ctx: TenantContext) -> HttpResponse:
    ctx = ctx.with_purpose("tax.assessment")
    form = YearForm(request.GET or None)
    year = _default_year()
    atena = ""
    page = 1
    if form.is_valid():
        year = form.cleaned_data["fiscal_year"] or year
        atena = form.cleaned_data["atena_number"] or ""
        page = form.cleaned_data["page"] or 1
    import_form = ImportForm(initial={"fiscal_year": year})
    status = 200
    if request.method == "POST":
        ctx.require(WRITE)
        import_form = ImportForm(request.POST, request.FILES)
        if import_form.is_valid():
            upload = import_form.cleaned_data["file"]
            try:
                text = upload.read().decode("utf-8-sig")
                result = actions.import_declarations(
                    ctx, import_form.cleaned_data["fiscal_year"], text, source=str(upload.name)[:40]
                )
            except UnicodeDecodeError:
                import_form.add_error("file", "UTF-8 の CSV を選んでください。")
            except actions.ImportRefused as refused:
                for message in refused.messages[:50]:
                    import_form.add_error("file", message)
            else:
                messages.success(request, f"{result.fiscal_year}年度の申告 {result.imported:,} 件を取り込みました。")
                return redirect(f"{request.path}?fiscal_year={result.fiscal_year}")
        status = 400
    rows, has_next = queries.list_assessments(ctx, year, atena_number=atena, page=page)
    context = {
        "form": form,
        "import_form": import_form,
        "year": year,
        "rows": rows,
        "page": page,
        "has_next": has_next,
        "years": queries.fiscal_years(ctx),
        "can_write": ctx.has(WRITE),
        "atena": atena,
    }
    return render(request, "tax/assessments.html", context, status=status)


@staff_page(READ)
def assessment(request: HttpRequest, ctx: TenantContext, fiscal_year: int, atena: str) -> HttpResponse:
    detail = queries.get_assessment(ctx.with_purpose("tax.assessment"), fiscal_year, atena)
    return render(request, "tax/assessment.html", {"a": detail})


@staff_page(READ)
def notice(request: HttpRequest, ctx: TenantContext, fiscal_year: int, atena: str) -> HttpResponse:
    pdf = queries.notice_pdf(ctx.with_purpose("tax.notice"), fiscal_year, atena, issued_on=timezone.localdate())
    response = HttpResponse(pdf, content_type="application/pdf")
    response["Content-Disposition"] = f'attachment; filename="notice-{fiscal_year}-{atena}.pdf"'
    return response


@staff_page(READ)
def csv_template(request: HttpRequest, ctx: TenantContext) -> HttpResponse:
    response = HttpResponse(template().encode("utf-8"), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = 'attachment; filename="declarations-template.csv"'
    return response
