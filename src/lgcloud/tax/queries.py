"""個人住民税 reads: tenant first, permission checked, every read of a taxpayer's data audited."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.http import Http404

from lgcloud.audit.actions import record as audit
from lgcloud.core.tenancy import TenantContext, bound
from lgcloud.municipalities.queries import get_municipality

from .models import Assessment
from .notice import NoticeDocument, render_notice_pdf
from .parameters import law_for
from .permissions import TaxPermission
from .rules.resident_tax import expand_lines

READ = TaxPermission.ASSESSMENT_READ
PAGE_SIZE = 50


@dataclass(frozen=True)
class AssessmentSummary:
    fiscal_year: int
    atena_number: str
    name: str
    total: int
    exemption: str
    collection: str


@dataclass(frozen=True)
class AssessmentDetail:
    fiscal_year: int
    atena_number: str
    name: str
    address: str
    total: int
    income_levy_municipal: int
    income_levy_prefectural: int
    per_capita_municipal: int
    per_capita_prefectural: int
    forest_environment_tax: int
    exemption: str
    collection: str
    collection_label: str
    instalments: list[int]
    lines: list[dict[str, Any]]
    computed_at: Any


def _lines(ctx: TenantContext, a: Assessment) -> list[dict[str, Any]]:
    municipality = get_municipality(ctx.tenant_code)
    law = law_for(a.fiscal_year, ctx.tenant_code, municipality.kyuchi if municipality else "")
    return expand_lines(a.breakdown["lines"], law.references)


def fiscal_years(ctx: TenantContext) -> list[int]:
    ctx.require(READ)
    with bound(ctx):
        return sorted(
            set(Assessment.objects.filter(municipality_id=ctx.tenant_code).values_list("fiscal_year", flat=True)),
            reverse=True,
        )


def list_assessments(
    ctx: TenantContext, fiscal_year: int, *, atena_number: str = "", page: int = 1
) -> tuple[list[AssessmentSummary], bool]:
    """One page of a year's assessments (by 宛名番号); the flag says whether another page follows."""
    ctx.require(READ)
    with bound(ctx):
        qs = Assessment.objects.filter(municipality_id=ctx.tenant_code, fiscal_year=fiscal_year)
        if atena_number:
            qs = qs.filter(atena_number=atena_number)
        start = (max(page, 1) - 1) * PAGE_SIZE
        rows = list(
            qs.order_by("atena_number").values_list(
                "fiscal_year", "atena_number", "name", "total", "exemption", "collection"
            )[start : start + PAGE_SIZE + 1]
        )
        audit(
            ctx, "tax.assessment.listed", subject_type="fiscal_year", subject_id=fiscal_year, fields=["name", "total"]
        )
        return [AssessmentSummary(*r) for r in rows[:PAGE_SIZE]], len(rows) > PAGE_SIZE


def _assessment(ctx: TenantContext, fiscal_year: int, atena_number: str) -> Assessment:
    found = Assessment.objects.filter(
        municipality_id=ctx.tenant_code, fiscal_year=fiscal_year, atena_number=atena_number
    ).first()
    if found is None:
        raise Http404("課税情報が見つかりません。")
    return found


def get_assessment(ctx: TenantContext, fiscal_year: int, atena_number: str) -> AssessmentDetail:
    """One taxpayer's assessment with its breakdown (the lines as computed, each with its legal source)."""
    ctx.require(READ)
    with bound(ctx):
        a = _assessment(ctx, fiscal_year, atena_number)
        audit(
            ctx,
            "tax.assessment.viewed",
            subject_type="assessment",
            subject_id=f"{fiscal_year}:{atena_number}",
            fields=["breakdown", "total", "instalments"],
        )
        return AssessmentDetail(
            a.fiscal_year,
            a.atena_number,
            a.name,
            a.address,
            a.total,
            a.income_levy_municipal,
            a.income_levy_prefectural,
            a.per_capita_municipal,
            a.per_capita_prefectural,
            a.forest_environment_tax,
            a.exemption,
            a.collection,
            a.get_collection_display(),
            list(a.instalments),
            _lines(ctx, a),
            a.computed_at,
        )


def notice_pdf(ctx: TenantContext, fiscal_year: int, atena_number: str, *, issued_on: Any) -> bytes:
    """The 税額決定通知書 (PDF) of one taxpayer."""
    ctx.require(READ)
    with bound(ctx):
        a = _assessment(ctx, fiscal_year, atena_number)
        municipality = get_municipality(ctx.tenant_code)
        audit(
            ctx,
            "tax.notice.printed",
            subject_type="assessment",
            subject_id=f"{fiscal_year}:{atena_number}",
            fields=["breakdown", "total", "instalments", "name", "address"],
        )
        doc = NoticeDocument(
            municipality_name=municipality.name if municipality else ctx.tenant_code,
            fiscal_year=a.fiscal_year,
            atena_number=a.atena_number,
            name=a.name,
            address=a.address,
            total=a.total,
            collection=a.collection,
            collection_label=a.get_collection_display(),
            instalments=list(a.instalments),
            lines=_lines(ctx, a),
            issued_on=issued_on,
        )
    return render_notice_pdf(doc)
