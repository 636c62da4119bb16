"""個人住民税 writes: importing income declarations and the yearly assessment batch.

Each write is one transaction (a batch: one per chunk) with its audit record. The batch is a
core Job: it resumes after a crash and never assesses a taxpayer twice (one Assessment per
municipality, fiscal year and 宛名番号, enforced by a unique constraint).
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any

from django.core.exceptions import ValidationError
from django.utils import timezone

from lgcloud.audit.actions import record as audit
from lgcloud.core import jobs
from lgcloud.core.bulk import adapt_datetime, insert_rows
from lgcloud.core.models import Job
from lgcloud.core.tenancy import TenantContext, bound
from lgcloud.municipalities.queries import get_municipality
from lgcloud.registry.queries import ResidentOn, residents_on

from . import csvio
from .models import Assessment, Collection, IncomeDeclaration
from .parameters import assessment_date, law_for
from .permissions import TaxPermission
from .rules.collection import ordinary_collection_instalments, special_collection_monthly
from .rules.resident_tax import Declaration, assess

WRITE = TaxPermission.ASSESSMENT_WRITE
READ = TaxPermission.ASSESSMENT_READ
ASSESSMENT_COLUMNS = (
    "municipality_id",
    "fiscal_year",
    "atena_number",
    "name",
    "address",
    "income_levy_municipal",
    "income_levy_prefectural",
    "per_capita_municipal",
    "per_capita_prefectural",
    "forest_environment_tax",
    "total",
    "exemption",
    "collection",
    "instalments",
    "breakdown",
    "job_id",
    "computed_at",
)
DECLARATION_FIELDS = [f for f in csvio.COLUMNS.values() if f != "atena_number"]


class ImportRefused(ValidationError):
    """The CSV had errors; nothing was written. ``rows`` holds (line, column, message)."""

    def __init__(self, rows: list[csvio.RowError]) -> None:
        super().__init__([f"{e.line}行目 {e.column}: {e.message}" for e in rows])
        self.rows = rows


@dataclass(frozen=True)
class ImportResult:
    fiscal_year: int
    imported: int


def import_declarations(ctx: TenantContext, fiscal_year: int, text: str, *, source: str) -> ImportResult:
    """Import a 給与支払報告書-like CSV: every row or none."""
    ctx.require(WRITE)
    rows, errors = csvio.parse(text)
    if not errors and not rows:
        errors = [csvio.RowError(2, "", "データ行がありません。")]
    if errors:
        raise ImportRefused(errors)
    with bound(ctx):
        atenas = [r["atena_number"] for r in rows]
        existing: set[str] = set()
        for start in range(0, len(atenas), 5000):  # SQLite binds at most 32,766 values per statement
            existing.update(
                IncomeDeclaration.objects.filter(
                    municipality_id=ctx.tenant_code,
                    fiscal_year=fiscal_year,
                    atena_number__in=atenas[start : start + 5000],
                ).values_list("atena_number", flat=True)
            )
        if existing:
            raise ImportRefused(
                [
                    csvio.RowError(i, "宛名番号", "この年度の申告は取込済みです。")
                    for i, r in enumerate(rows, start=2)
                    if r["atena_number"] in existing
                ]
            )
        now = adapt_datetime(timezone.now())
        defaults = {f.name: f.get_default() for f in IncomeDeclaration._meta.concrete_fields}
        columns = ("municipality_id", "fiscal_year", "source", "created_at", "atena_number", *DECLARATION_FIELDS)
        insert_rows(
            IncomeDeclaration,
            columns,
            [
                (
                    ctx.tenant_code,
                    fiscal_year,
                    source[:40],
                    now,
                    r["atena_number"],
                    *tuple(r.get(f, defaults[f]) for f in DECLARATION_FIELDS),
                )
                for r in rows
            ],
        )
        audit(
            ctx,
            "tax.declaration.imported",
            subject_type="fiscal_year",
            subject_id=fiscal_year,
            fields=[f"rows:{len(rows)}", *sorted({k for r in rows for k in r})],
        )
    return ImportResult(fiscal_year, len(rows))


def _declaration_of(row: dict[str, Any], birth_date: date) -> Declaration:
    """The rules' input from a declaration row (``values()`` of IncomeDeclaration)."""
    fields = {f: row[f] for f in Declaration.__dataclass_fields__ if f != "birth_date"}
    return Declaration(birth_date=birth_date, **fields)


def _collection(decl: dict[str, object], total: int) -> tuple[str, list[int]]:
    if total <= 0:
        return Collection.ORDINARY, []
    if decl.get("salary_income") and decl.get("employer_number"):
        return Collection.SPECIAL, special_collection_monthly(total)
    return Collection.ORDINARY, ordinary_collection_instalments(total)


def assess_fiscal_year(
    ctx: TenantContext,
    fiscal_year: int,
    *,
    dry_run: bool = False,
    chunk_size: int = 2000,
    on_progress: Callable[[Job], None] | None = None,
) -> Job:
    """Assess every taxpayer of ``fiscal_year``: the residents on 1 January with a declaration.

    A job (kind ``tax.assessment``, key the fiscal year): rerunning resumes after the last
    committed chunk; a finished year is not assessed again.
    """
    ctx.require(WRITE)
    municipality = get_municipality(ctx.tenant_code)
    kyuchi = municipality.kyuchi if municipality else ""
    law = law_for(fiscal_year, ctx.tenant_code, kyuchi)
    on = assessment_date(fiscal_year)
    handle = jobs.open_job(
        ctx,
        kind="tax.assessment",
        key=str(fiscal_year),
        permission=READ,
        label=f"{fiscal_year}年度 個人住民税 賦課計算",
        params={"fiscal_year": fiscal_year, "assessment_date": on.isoformat(), "kyuchi": kyuchi},
        dry_run=dry_run,
    )
    if handle.already_done:
        return handle.job
    with bound(ctx):
        audit(ctx, "tax.assessment.batch_started", subject_type="job", subject_id=handle.job.pk)

    def pages() -> Iterator[list[ResidentOn]]:
        after: str | None = handle.checkpoint
        while after is not None:
            page = residents_on(ctx, on, after=after, limit=chunk_size)
            if page.residents:
                yield page.residents
            after = page.next_after

    job_id = None if dry_run else handle.job.pk

    def work(chunk: Sequence[ResidentOn]) -> jobs.ChunkOutcome:
        out = jobs.ChunkOutcome()
        atenas = [r.atena_number for r in chunk]
        done = set(
            Assessment.objects.filter(
                municipality_id=ctx.tenant_code, fiscal_year=fiscal_year, atena_number__in=atenas
            ).values_list("atena_number", flat=True)
        )
        declarations = {
            d["atena_number"]: d
            for d in IncomeDeclaration.objects.filter(
                municipality_id=ctx.tenant_code, fiscal_year=fiscal_year, atena_number__in=atenas
            ).values("atena_number", *DECLARATION_FIELDS)
        }
        now = adapt_datetime(timezone.now())
        new: list[tuple[Any, ...]] = []
        for r in chunk:
            decl = declarations.get(r.atena_number)
            if decl is None:
                continue  # no declaration: not assessed here (未申告者は別途調査)
            if r.atena_number in done:
                out.skipped += 1
                continue
            result = assess(_declaration_of(decl, r.birth_date), law)
            collection, instalments = _collection(decl, result.total)
            new.append(
                (
                    ctx.tenant_code,
                    fiscal_year,
                    r.atena_number,
                    r.full_name,
                    r.address,
                    result.income_levy_municipal,
                    result.income_levy_prefectural,
                    result.per_capita_municipal,
                    result.per_capita_prefectural,
                    result.forest_environment_tax,
                    result.total,
                    result.exemption,
                    collection,
                    json.dumps(instalments),
                    json.dumps(result.as_json(law.references), ensure_ascii=False),
                    job_id,
                    now,
                )
            )
        insert_rows(Assessment, ASSESSMENT_COLUMNS, new)
        out.done += len(new)
        if new:
            audit(
                ctx,
                "tax.assessment.computed",
                subject_type="assessment_range",
                subject_id=f"{fiscal_year}:{chunk[0].atena_number}-{chunk[-1].atena_number}",
                fields=[f"count:{len(new)}", "breakdown", "total"],
            )
        return out

    jobs.run_chunks(ctx, handle, pages(), work, item_key=lambda r: r.atena_number, on_progress=on_progress)
    with bound(ctx):
        totals = {"assessed": handle.job.done, "skipped": handle.job.skipped}
        if not dry_run:
            agg = Assessment.objects.filter(municipality_id=ctx.tenant_code, fiscal_year=fiscal_year)
            totals["taxpayers"] = agg.count()
            totals["taxed"] = agg.filter(total__gt=0).count()
        audit(ctx, "tax.assessment.batch_finished", subject_type="job", subject_id=handle.job.pk)
    return jobs.finish_job(ctx, handle, totals)
