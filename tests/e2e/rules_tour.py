"""個人住民税・給付・児童手当・バッチ処理 in the browser: every page of ``lgcloud.tax.urls`` and
``lgcloud.benefits.urls`` (and the job pages of ``lgcloud.web.urls``) in the states staff meet them in.

``seed_rules`` gives 千代田区 a 税務担当 (``zeimu``) and a 福祉担当 (``fukushi``), a family, their
declarations and 令和8年度 assessment, a push programme with its eligibility list and one 全銀 file,
and the 児童手当 case the family's child opens. Downloads (the notice PDF, the CSV template, the
全銀 file) are not pages: they are fetched and their type checked instead of axe.
"""

from __future__ import annotations

import re
from datetime import date
from pathlib import Path

from playwright.sync_api import expect

from lgcloud.benefits import urls as benefits_urls
from lgcloud.tax import urls as tax_urls

from .helpers import CHIYODA, PASSWORD, Site

DOWNLOADS = {"tax:notice", "tax:csv_template", "benefits:batch_file"}
ROUTES = {f"{u.app_name}:{p.name}" for u in (tax_urls, benefits_urls) for p in u.urlpatterns if p.name} - DOWNLOADS
PROGRAMME = Path(__file__).resolve().parents[2] / "src" / "lgcloud" / "benefits" / "programmes" / "push-2026.yaml"


def seed_rules() -> str:
    """The seed; returns the 宛名番号 of the taxpayer whose assessment the tour opens."""
    import yaml

    from lgcloud.accounts.actions import create_staff
    from lgcloud.benefits import actions as benefits
    from lgcloud.core.permissions import Role
    from lgcloud.core.tenancy import TenantContext
    from lgcloud.linkage.consumers import run_all
    from lgcloud.registry import actions as registry
    from lgcloud.registry.actions import NewPerson
    from lgcloud.tax import actions as tax

    ctx = TenantContext.system(CHIYODA, "e2e")
    create_staff(ctx, username="zeimu", display_name="税務 二郎", roles=[Role.TAX_CLERK], password=PASSWORD)
    create_staff(ctx, username="fukushi", display_name="福祉 三子", roles=[Role.WELFARE_CLERK], password=PASSWORD)
    head, _wife, _child = registry.register_move_in(
        ctx,
        persons=[
            NewPerson("山田", "太郎", "ヤマダ", "タロウ", date(1980, 1, 1), "1", "head"),
            NewPerson("山田", "花子", "ヤマダ", "ハナコ", date(1982, 5, 5), "2", "wife"),
            NewPerson("山田", "一郎", "ヤマダ", "イチロウ", date(2015, 6, 6), "1", "child"),
        ],
        address="東京都千代田区丸の内一丁目1番1号",
        effective_date=date(2024, 4, 1),
        filed_on=date(2024, 4, 1),
        previous_address="大阪府大阪市北区梅田一丁目1番1号",
    ).atena_numbers
    csv = "宛名番号,給与収入,社会保険料控除,特別徴収義務者番号\r\n" + f"{head},5000000,750000,E0001\r\n"
    tax.import_declarations(ctx, 2026, csv, source="e2e.csv")
    tax.assess_fiscal_year(ctx, 2026)
    raw = PROGRAMME.read_bytes()
    benefits.load_programme(ctx, yaml.safe_load(raw), source=raw)
    benefits.determine_eligibility(ctx, "push-2026")
    benefits.register_account(
        ctx, head, "public_funds", benefits.AccountInput("0005", "001", 1, "1234567", "ヤマダ タロウ")
    )
    benefits.create_payment_batch(ctx, "push-2026", transfer_date=date(2026, 12, 10))
    run_all([CHIYODA], only=["benefits.child_allowance"])
    return head


def _download(site: Site, path: str, content_type: str) -> bytes:
    response = site.page.request.get(path)
    assert response.status == 200, path
    assert response.headers["content-type"].startswith(content_type), response.headers["content-type"]
    return response.body()


def tour_rules(site: Site, head: str) -> None:
    page = site.page
    check = site.check_a11y

    site.login(CHIYODA, "zeimu")
    site.nav("個人住民税")
    check("tax: assessments")
    site.submit("取り込む")
    assert site.status == 400
    expect(page.get_by_role("alert")).to_be_visible()
    check("tax: import without a file")
    site.goto("/tax/?fiscal_year=2026")
    with page.expect_navigation():
        page.get_by_role("link", name=head, exact=True).click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("2026年度")
    check("tax: one taxpayer's breakdown")
    assert _download(site, f"/tax/2026/{head}/notice.pdf", "application/pdf").startswith(b"%PDF")
    assert "宛名番号" in _download(site, "/tax/template.csv", "text/csv").decode()
    site.nav("バッチ処理")
    check("jobs: list (tax clerk)")
    with page.expect_navigation():
        page.get_by_role("link", name=re.compile(r"^\d+$")).first.click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("賦課計算")
    check("jobs: one job")
    site.logout()

    site.login(CHIYODA, "fukushi")
    site.nav("給付")
    check("benefits: programmes")
    with page.expect_navigation():
        page.get_by_role("link", name="物価高騰対策一律給付金（プッシュ型・例）").click()
    check("benefits: programme, eligibility and batches")
    content = _download(site, "/benefits/programmes/push-2026/batches/1/file", "text/plain")
    assert content.startswith(b"121") and len(content.split(b"\r\n")[0]) == 120
    site.nav("児童手当")
    check("child allowance: cases")
    with page.expect_navigation():
        page.get_by_role("table").get_by_role("link").first.click()
    check("child allowance: a pending case")
    page.get_by_label("請求日").fill("2026-11-02")
    site.submit("認定請求を受け付ける")
    expect(page.get_by_role("status")).to_contain_text("請求を受け付けました。")
    check("child allowance: claimed")
    page.get_by_label("認定日").fill("")
    site.submit("認定する")
    assert site.status == 400
    check("child allowance: approval with errors")
    page.get_by_label("認定日").fill("2026-11-20")
    site.submit("認定する")
    expect(page.get_by_role("status")).to_contain_text("認定しました。")
    check("child allowance: approved")
    site.logout()
