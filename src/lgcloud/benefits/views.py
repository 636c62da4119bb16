"""給付 pages: programmes (runs, eligibility list, payment batches and their 全銀 files) and 児童手当 cases.

Thin: reads through benefits.queries, writes through benefits.actions. Every page works without
JavaScript. The batch runs themselves are jobs (``lgcloud benefit_eligibility`` / ``benefit_payments``).
"""

from __future__ import annotations

from datetime import date

from django import forms
from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_http_methods, require_POST

from lgcloud.core.pages import staff_page
from lgcloud.core.tenancy import TenantContext

from . import actions, queries
from .permissions import BenefitsPermission

READ = BenefitsPermission.CASE_READ
WRITE = BenefitsPermission.CASE_WRITE
CASE_STATES = [
    ("", "すべて"),
    ("pending", "申請勧奨中"),
    ("claimed", "認定請求受付"),
    ("approved", "認定"),
    ("ended", "消滅"),
]


class HouseholdForm(forms.Form):
    household_number = forms.CharField(label="世帯番号", max_length=10, required=False)
    page = forms.IntegerField(min_value=1, required=False, widget=forms.HiddenInput)


class CaseFilterForm(forms.Form):
    state = forms.ChoiceField(label="状態", choices=CASE_STATES, required=False)
    page = forms.IntegerField(min_value=1, required=False, widget=forms.HiddenInput)


class ClaimForm(forms.Form):
    claimed_on = forms.DateField(label="請求日", help_text="YYYY-MM-DD")


class ApproveForm(forms.Form):
    approved_on = forms.DateField(label="認定日", help_text="YYYY-MM-DD")


@staff_page(READ)
def programmes(request: HttpRequest, ctx: TenantContext) -> HttpResponse:
    rows = queries.list_programmes(ctx.with_purpose("benefits.programme"))
    return render(request, "benefits/programmes.html", {"rows": rows})


@staff_page(READ)
def programme(request: HttpRequest, ctx: TenantContext, code: str) -> HttpResponse:
    ctx = ctx.with_purpose("benefits.programme")
    summary, batches = queries.get_programme(ctx, code)
    form = HouseholdForm(request.GET or None)
    number, page = "", 1
    if form.is_valid():
        number = form.cleaned_data["household_number"] or ""
        page = form.cleaned_data["page"] or 1
    rows, has_next = queries.list_entitlements(ctx, code, household_number=number, page=page)
    context = {
        "p": summary,
        "batches": batches,
        "form": form,
        "rows": rows,
        "page": page,
        "has_next": has_next,
        "number": number,
    }
    return render(request, "benefits/programme.html", context)


@staff_page(READ)
def batch_file(request: HttpRequest, ctx: TenantContext, code: str, batch_number: int) -> HttpResponse:
    name, content = queries.batch_file(ctx.with_purpose("benefits.payment"), code, batch_number)
    response = HttpResponse(content, content_type="text/plain; charset=shift_jis")
    response["Content-Disposition"] = f'attachment; filename="{name}"'
    return response


@staff_page(READ)
def cases(request: HttpRequest, ctx: TenantContext) -> HttpResponse:
    form = CaseFilterForm(request.GET or None)
    state, page = "", 1
    if form.is_valid():
        state = form.cleaned_data["state"] or ""
        page = form.cleaned_data["page"] or 1
    rows, has_next = queries.list_child_allowance_cases(
        ctx.with_purpose("benefits.child_allowance"), state=state, page=page
    )
    return render(
        request, "benefits/cases.html", {"form": form, "rows": rows, "page": page, "has_next": has_next, "state": state}
    )


@staff_page(READ)
@require_http_methods(["GET"])
def case(request: HttpRequest, ctx: TenantContext, number: int) -> HttpResponse:
    detail = queries.get_child_allowance_case(ctx.with_purpose("benefits.child_allowance"), number)
    context = {
        "d": detail,
        "claim_form": ClaimForm(initial={"claimed_on": date.today()}),
        "approve_form": ApproveForm(initial={"approved_on": date.today()}),
        "can_write": ctx.has(WRITE),
    }
    return render(request, "benefits/case.html", context)


@staff_page(WRITE)
@require_POST
def case_action(request: HttpRequest, ctx: TenantContext, number: int, what: str) -> HttpResponse:
    if what not in ("claim", "approve"):
        raise Http404
    ctx = ctx.with_purpose("benefits.child_allowance")
    form: forms.Form = ClaimForm(request.POST) if what == "claim" else ApproveForm(request.POST)
    refused = ""
    if form.is_valid():
        try:
            if what == "claim":
                actions.claim_child_allowance(ctx, number, claimed_on=form.cleaned_data["claimed_on"])
                messages.success(request, "請求を受け付けました。")
            else:
                actions.approve_child_allowance(ctx, number, approved_on=form.cleaned_data["approved_on"])
                messages.success(request, "認定しました。認定通知書を送付してください。")
            return redirect("benefits:case", number=number)
        except actions.BenefitRefused as exc:
            refused = exc.message
    detail = queries.get_child_allowance_case(ctx, number)
    context = {
        "d": detail,
        "refused": refused,
        "claim_form": form if what == "claim" else ClaimForm(),
        "approve_form": form if what != "claim" else ApproveForm(),
        "can_write": True,
    }
    return render(request, "benefits/case.html", context, status=400)
