"""個人住民税 pages: the list, one taxpayer's breakdown, the notice PDF, the CSV import; who may see what."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client

from lgcloud.accounts.models import Staff
from lgcloud.core.permissions import Role
from lgcloud.tax import actions
from lgcloud.tax.models import IncomeDeclaration

from ..conftest import CHIYODA, SHINJUKU, StaffFactory
from .test_assessment import _csv


@pytest.mark.django_db
def test_tax_pages_for_each_role(
    make_staff: StaffFactory, login_as: Callable[[Staff], Client], town: dict[str, str], tax_clerk
) -> None:  # type: ignore[no-untyped-def]
    actions.import_declarations(tax_clerk, 2026, _csv(town), source="t.csv")
    actions.assess_fiscal_year(tax_clerk, 2026)
    head = town["head"]
    detail = f"/tax/2026/{head}/"
    assert Client().get("/tax/").status_code == 302  # anonymous: to the sign-in page

    clerk = login_as(make_staff(CHIYODA, "zeimu", Role.TAX_CLERK))
    page = clerk.get("/tax/?fiscal_year=2026")
    assert page.status_code == 200 and head in page.content.decode()
    body = clerk.get(detail).content.decode()
    assert "課税総所得金額（1,000円未満切捨て）" in body and "240500" in body and "地方税法 第20条の4の2 第1項" in body
    assert "www.city.nomi.ishikawa.jp" in body  # a parameter's reference, stored as @employment_income
    pdf = clerk.get(f"{detail}notice.pdf")
    assert pdf.status_code == 200 and pdf["Content-Type"] == "application/pdf" and pdf.content.startswith(b"%PDF")

    bad = SimpleUploadedFile("bad.csv", "宛名番号,給与収入\r\n123,x\r\n".encode())
    refused = clerk.post("/tax/", {"fiscal_year": 2027, "file": bad})
    assert refused.status_code == 400 and "2行目 宛名番号" in refused.content.decode()
    assert not IncomeDeclaration.objects.filter(fiscal_year=2027).exists()

    welfare = login_as(make_staff(CHIYODA, "fukushi", Role.WELFARE_CLERK))
    assert welfare.get("/tax/").status_code == 403
    other = login_as(make_staff(SHINJUKU, "zeimu2", Role.TAX_CLERK))
    assert other.get(detail).status_code == 404  # another municipality's taxpayer: "not found"
