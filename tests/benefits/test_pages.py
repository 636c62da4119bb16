"""給付 pages: programmes with their runs and 全銀 files, 児童手当 cases (claim → approve), the job pages."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date

import pytest
from django.test import Client

from lgcloud.accounts.models import Staff
from lgcloud.benefits import actions
from lgcloud.core.permissions import Role
from lgcloud.core.tenancy import TenantContext
from lgcloud.linkage.consumers import run_all

from ..conftest import CHIYODA, SHINJUKU, StaffFactory
from .conftest import load


@pytest.mark.django_db
def test_programme_pages_batch_file_and_jobs(
    make_staff: StaffFactory, login_as: Callable[[Staff], Client], welfare: TenantContext, households: dict
) -> None:  # type: ignore[type-arg]
    load(welfare, "push-2026.yaml")
    job = actions.determine_eligibility(welfare, "push-2026")
    actions.register_account(
        welfare,
        households["one"][0],
        "public_funds",
        actions.AccountInput("0005", "001", 1, "1234567", "サトウ ハジメ"),
    )
    actions.create_payment_batch(welfare, "push-2026", transfer_date=date(2026, 12, 10))
    clerk = login_as(make_staff(CHIYODA, "fukushi", Role.WELFARE_CLERK))
    assert "物価高騰対策一律給付金" in clerk.get("/benefits/programmes/").content.decode()
    body = clerk.get("/benefits/programmes/push-2026/").content.decode()
    assert "zengin-push-2026-001.txt" in body and households["four"][0] in body
    file = clerk.get("/benefits/programmes/push-2026/batches/1/file")
    assert file.status_code == 200 and file.content.startswith(b"121") and len(file.content) == 4 * 122
    jobs_page = clerk.get("/jobs/").content.decode()
    assert "対象者抽出" in jobs_page and "振込データ作成" in jobs_page
    assert "完了" in clerk.get(f"/jobs/{job.pk}/").content.decode()

    tax = login_as(make_staff(CHIYODA, "zeimu", Role.TAX_CLERK))
    assert tax.get("/benefits/programmes/").status_code == 403
    assert tax.get(f"/jobs/{job.pk}/").status_code == 404  # a benefits job is not the tax clerk's to see
    assert "物価高騰対策一律給付金（プッシュ型・例） 対象者抽出" not in tax.get("/jobs/").content.decode()
    other = login_as(make_staff(SHINJUKU, "fukushi2", Role.WELFARE_CLERK))
    assert other.get("/benefits/programmes/push-2026/").status_code == 404


@pytest.mark.django_db
def test_child_allowance_case_pages_claim_and_approve(
    make_staff: StaffFactory, login_as: Callable[[Staff], Client], households: dict
) -> None:  # type: ignore[type-arg]
    run_all([CHIYODA], only=["benefits.child_allowance"])  # the two children of 山田 → one pending case
    clerk = login_as(make_staff(CHIYODA, "fukushi", Role.WELFARE_CLERK))
    listing = clerk.get("/benefits/child-allowance/?state=pending").content.decode()
    assert households["four"][0] in listing
    refused = clerk.post("/benefits/child-allowance/1/approve/", {"approved_on": "2026-11-20"})
    assert refused.status_code == 400 and "認定請求を受け付けた記録だけを認定できます。" in refused.content.decode()
    assert clerk.post("/benefits/child-allowance/1/claim/", {"claimed_on": "2026-11-02"}).status_code == 302
    assert clerk.post("/benefits/child-allowance/1/approve/", {"approved_on": "2026-11-20"}).status_code == 302
    body = clerk.get("/benefits/child-allowance/1/").content.decode()
    assert "認定" in body and "2026-12" in body and "20000" in body  # two children aged 11 and 14: 10,000 each
