"""The yearly assessment batch on real residents: taxpayers on 1 January, CSV import, idempotent reruns, the notice."""

from __future__ import annotations

import shutil
import subprocess
from datetime import date

import pytest
from django.db import IntegrityError, transaction

from lgcloud.core.models import Job
from lgcloud.core.permissions import Role
from lgcloud.core.tenancy import TenantContext
from lgcloud.tax import actions, queries
from lgcloud.tax.models import Assessment, IncomeDeclaration

CHIYODA = "131016"
HEADER = "宛名番号,給与収入,社会保険料控除,特別徴収義務者番号,特別徴収義務者\r\n"


def _csv(town: dict[str, str]) -> str:
    return (
        HEADER
        + f"{town['head']},5000000,750000,E0001,株式会社テスト\r\n"
        + f"{town['wife']},1100000,0,,\r\n"
        + f"{town['late']},3000000,400000,,\r\n"
    )


@pytest.mark.django_db
def test_a_csv_with_an_error_imports_nothing(tax_clerk: TenantContext, town: dict[str, str]) -> None:
    bad = _csv(town) + "12345,abc,0,,\r\n"
    with pytest.raises(actions.ImportRefused) as refused:
        actions.import_declarations(tax_clerk, 2026, bad, source="test.csv")
    assert [(e.line, e.column) for e in refused.value.rows] == [(5, "宛名番号"), (5, "給与収入")]
    assert IncomeDeclaration.objects.count() == 0
    actions.import_declarations(tax_clerk, 2026, _csv(town), source="test.csv")
    with pytest.raises(actions.ImportRefused):  # the same rows again: refused, nothing doubled
        actions.import_declarations(tax_clerk, 2026, _csv(town), source="test.csv")
    assert IncomeDeclaration.objects.count() == 3


@pytest.mark.django_db
def test_the_batch_assesses_residents_on_1_january_once(tax_clerk: TenantContext, town: dict[str, str]) -> None:
    actions.import_declarations(tax_clerk, 2026, _csv(town), source="test.csv")
    job = actions.assess_fiscal_year(tax_clerk, 2026, chunk_size=1)
    assert job.state == Job.State.SUCCEEDED
    assessed = {a.atena_number: a for a in Assessment.objects.all()}
    assert set(assessed) == {town["head"], town["wife"]}  # 佐藤 moved in after 1 January
    head = assessed[town["head"]]
    assert (head.total, head.collection) == (240_500, "special")
    assert head.instalments[0] == 240_500 - 20_000 * 11 and head.instalments[1:] == [20_000] * 11
    assert (assessed[town["wife"]].total, assessed[town["wife"]].exemption) == (0, "all")  # 令和8年度: 非課税
    stored = {line[0]: line for line in head.breakdown["lines"]}
    assert stored["employment_income"][2:] == [3_560_000, "@employment_income"]  # the reference by name

    again = actions.assess_fiscal_year(tax_clerk, 2026)  # finished: nothing is assessed twice
    assert again.pk == job.pk and Assessment.objects.count() == 2
    with pytest.raises(IntegrityError), transaction.atomic():
        Assessment.objects.create(**{**_fields(head), "id": None})


def _fields(a: Assessment) -> dict[str, object]:
    return {f.attname: getattr(a, f.attname) for f in Assessment._meta.concrete_fields}


@pytest.mark.django_db
def test_a_dry_run_writes_no_assessment(tax_clerk: TenantContext, town: dict[str, str]) -> None:
    actions.import_declarations(tax_clerk, 2026, _csv(town), source="test.csv")
    job = actions.assess_fiscal_year(tax_clerk, 2026, dry_run=True)
    assert job.dry_run and job.done == 2 and Assessment.objects.count() == 0


@pytest.mark.django_db
def test_the_assessment_page_data_and_the_notice_pdf(tax_clerk: TenantContext, town: dict[str, str]) -> None:
    actions.import_declarations(tax_clerk, 2026, _csv(town), source="test.csv")
    actions.assess_fiscal_year(tax_clerk, 2026)
    detail = queries.get_assessment(tax_clerk, 2026, town["head"])
    codes = [line["code"] for line in detail.lines]
    assert codes.index("employment_income") < codes.index("taxable_income") < codes.index("total")
    pdf = queries.notice_pdf(tax_clerk, 2026, town["head"], issued_on=date(2026, 6, 1))
    assert pdf.startswith(b"%PDF")
    pdftotext = shutil.which("pdftotext")
    assert pdftotext, "poppler-utils (pdftotext) is a test dependency (.ci/system-deps)"
    text = subprocess.run([pdftotext, "-", "-"], input=pdf, capture_output=True, check=True).stdout.decode()
    assert "税額決定通知書" in text and "山田 太郎" in text and "240500" in text
    other = TenantContext("131041", 7, "税務", frozenset({Role.TAX_CLERK}), "test")
    from django.http import Http404

    with pytest.raises(Http404):
        queries.get_assessment(other, 2026, town["head"])
