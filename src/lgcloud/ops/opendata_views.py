"""Open-data pages: the 団体管理者 prepares and approves releases; anyone downloads what is published."""

from __future__ import annotations

import json
from datetime import timedelta

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.views.decorators.http import require_http_methods

from lgcloud.core.pages import apply_errors, staff_page
from lgcloud.core.permissions import PlatformPermission
from lgcloud.core.tenancy import TenantContext
from lgcloud.municipalities.queries import get_municipality, list_lg_codes

from . import actions, opendata, queries
from .forms import ReleaseForm
from .models import OpenDataRelease
from .rules.disclosure import TOTAL


def _preview(release: OpenDataRelease) -> list[dict[str, object]]:
    out = []
    for name, spec in opendata.TABLES.items():
        table = release.tables.get(name, {"rows": []})
        rows = table["rows"]
        out.append(
            {
                "name": name,
                "title": spec.title,
                "cells": len(rows),
                "hidden": sum(1 for r in rows if r[-1] is None),
                "totals": [r for r in rows if all(v == TOTAL for v in r[1:-1])][:60],
                "header": [c.label for c in spec.dimensions] + [spec.measure.label],
            }
        )
    return out


@staff_page(PlatformPermission.OPENDATA_APPROVE)
@require_http_methods(["GET", "POST"])
def manage(request: HttpRequest, ctx: TenantContext) -> HttpResponse:
    """公表案の作成と一覧."""
    today = timezone.localdate()
    last_month_end = today.replace(day=1) - timedelta(days=1)
    form = ReleaseForm(
        request.POST or None,
        initial={"reference_date": last_month_end, "changes_since": last_month_end.replace(day=1)},
    )
    if request.method == "POST" and form.is_valid():
        try:
            release = actions.prepare_release(
                ctx, reference_date=form.cleaned_data["reference_date"], since=form.cleaned_data["changes_since"]
            )
        except ValidationError as exc:
            apply_errors(form, exc)
        else:
            messages.success(request, f"公表案 第{release.number}号を作成しました。内容を確認して承認してください。")
            return redirect("ops:opendata_release", number=release.number)
    return render(
        request,
        "ops/opendata_manage.html",
        {"form": form, "releases": queries.releases(ctx)},
        status=400 if form.errors else 200,
    )


@staff_page(PlatformPermission.OPENDATA_APPROVE)
@require_http_methods(["GET", "POST"])
def release_detail(request: HttpRequest, ctx: TenantContext, number: int) -> HttpResponse:
    """公表案の確認と承認（承認すると誰でも取得できるようになります）."""
    release = queries.release(ctx, number)
    error = ""
    if request.method == "POST":
        try:
            actions.approve_release(ctx, number)
        except ValidationError as exc:
            error = " ".join(exc.messages)
        except PermissionDenied as exc:
            error = str(exc) or "承認する権限がありません。"
        else:
            messages.success(request, f"第{number}号を公表しました。")
            return redirect("ops:opendata_release", number=number)
    return render(
        request,
        "ops/opendata_release.html",
        {"release": release, "tables": _preview(release), "error": error},
        status=400 if error else 200,
    )


# --- public ------------------------------------------------------------------------------------


def index(request: HttpRequest) -> HttpResponse:
    """公表中のオープンデータがある団体の一覧（サインイン不要）."""
    codes = list_lg_codes(on_platform_only=True)
    found = queries.municipalities_with_releases(TenantContext.system(None, opendata.PUBLIC_PURPOSE), codes)
    rows = [(code, get_municipality(code), number) for code, number in sorted(found.items())]
    return render(request, "ops/opendata_index.html", {"rows": rows, "dictionary": opendata.dictionary()})


def municipality_releases(request: HttpRequest, lg_code: str) -> HttpResponse:
    ctx, name = opendata.public_context(lg_code)
    releases = queries.releases(ctx, published_only=True)
    return render(
        request,
        "ops/opendata_municipality.html",
        {
            "lg_code": lg_code,
            "name": name,
            "releases": releases,
            "tables": opendata.TABLES,
            "licence": opendata.licence(timezone.localdate()),
        },
    )


def table_file(request: HttpRequest, lg_code: str, number: int, table: str, fmt: str) -> HttpResponse:
    """One published table as CSV (UTF-8, suppressed cells as X) or JSON (null + suppressed: true)."""
    if table not in opendata.TABLES or fmt not in ("csv", "json"):
        raise Http404
    ctx, name = opendata.public_context(lg_code)
    release = queries.release(ctx, number, published_only=True)
    data = release.tables[table]
    filename = f"{lg_code}-{number}-{table}.{fmt}"
    if fmt == "csv":
        response = HttpResponse("\ufeff" + opendata.table_csv(table, data), content_type="text/csv; charset=utf-8")
    else:
        body = opendata.table_json(table, data, opendata.release_meta(release, name))
        response = HttpResponse(
            json.dumps(body, ensure_ascii=False, indent=1), content_type="application/json; charset=utf-8"
        )
    response["Content-Disposition"] = f'inline; filename="{filename}"'
    response["Access-Control-Allow-Origin"] = "*"  # open data: any site may fetch it
    return response
