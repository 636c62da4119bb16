"""監査ログ: the municipality's access and change records, searchable by its auditors."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from lgcloud.core.pages import staff_page
from lgcloud.core.permissions import PlatformPermission
from lgcloud.core.tenancy import TenantContext

from .forms import AuditFilterForm
from .queries import AuditFilter, search_audit_log


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
        "audit/log.html",
        {"form": form, "page": page, "query": query.urlencode()},
        status=400 if form.errors else 200,
    )
