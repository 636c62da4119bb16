"""運用監視 in Chromium: usage and charges, the service view, open data, the price list, 公共SaaS.

Every route of ``lgcloud.ops.urls`` is checked with axe-core here (the accessibility tour leaves
the ``ops`` namespace to this test), or fetched and its content type checked when it is a file.
The 団体管理者's work is also done once with JavaScript switched off.
"""

from __future__ import annotations

import re
from datetime import date, timedelta

from django.urls import URLResolver
from playwright.sync_api import expect

from lgcloud.ops import urls as ops_urls

from .helpers import CHIYODA, Site

# Routes that answer with a file, not a page: fetched, and their content type checked.
FILES = {"ops:usage_csv": "text/csv", "ops:usage_pdf": "application/pdf", "ops:opendata_file": "text/csv"}


# ops pages the whole-site tour (test_accessibility.py) checks: 稼働状況 and the batch jobs.
TOURED_ELSEWHERE = {"ops:health", "ops:jobs", "ops:job"}


def ops_routes() -> set[str]:
    names = {f"ops:{p.name}" for p in ops_urls.urlpatterns if not isinstance(p, URLResolver) and p.name}
    return names - TOURED_ELSEWHERE


def seed() -> None:
    """千代田区 on the platform with residents, a day of metered use, and the day closed."""
    from django.utils import timezone

    from lgcloud.core.tenancy import TenantContext
    from lgcloud.municipalities.actions import update_municipality
    from lgcloud.ops import actions
    from lgcloud.ops.daily import close_day
    from lgcloud.registry.actions import NewPerson, register_move_in

    platform = TenantContext.system(None, "e2e")
    update_municipality(platform, CHIYODA, on_platform=True)
    ctx = TenantContext.system(CHIYODA, "e2e")
    for i in range(6):
        register_move_in(
            ctx,
            persons=[NewPerson("試験", f"花子{i}", "シケン", "ハナコ", date(1960 + i * 9, 5, 1), "2", "head")],
            address=f"東京都千代田区九段南{'一二'[i % 2]}丁目{i + 1}番1号",
            effective_date=date(2026, 4, 1),
            filed_on=date(2026, 4, 1),
            previous_address="大阪府大阪市北区梅田一丁目1番1号",
        )
    today = timezone.localdate()
    actions.add_usage(
        platform,
        {
            (CHIYODA, today, "001", "requests.page_read"): 120,
            (CHIYODA, today, "001", "cpu_us"): 2_500_000,
            (CHIYODA, today, "001", "latency.le_100"): 110,
            (CHIYODA, today, "001", "latency.le_2000"): 10,
            (CHIYODA, today, "001", "status.5xx"): 2,
        },
    )
    close_day(today, [CHIYODA])


def _fetch(site: Site, path: str, content_type: str) -> bytes:
    response = site.page.request.get(path)
    assert response.status == 200, path
    assert response.headers["content-type"].startswith(content_type), (path, response.headers["content-type"])
    return response.body()


def test_every_ops_page_in_chromium_has_no_axe_violations(site: Site) -> None:
    seed()
    page, check = site.page, site.check_a11y
    month = date.today().strftime("%Y-%m")

    # The public pages: no sign-in.
    site.goto("/pricing/")
    expect(page.get_by_role("heading", level=1)).to_contain_text("料金表")
    check("pricing")
    site.goto("/saas/")
    expect(page.get_by_role("heading", name=re.compile("^SAAS-3"))).to_be_visible()
    check("公共SaaS")
    site.goto("/opendata/")
    check("open data index: nothing published")
    site.goto(f"/opendata/{CHIYODA}/")
    check("open data of a municipality: nothing published")

    # 団体管理者: usage, baseline, service, open data.
    site.login(CHIYODA, "admin")
    site.pass_mfa("admin")
    site.nav("利用量・利用料")
    expect(page.get_by_role("table").first).to_contain_text("均等割")
    check("usage")
    site.goto("/usage/?month=2026-13")
    assert site.status == 400
    check("usage: bad month")
    site.goto("/usage/")
    site.submit("登録する")
    assert site.status == 400
    expect(page.get_by_role("alert")).to_contain_text("金額を入力してください。")
    check("usage: baseline errors")
    page.get_by_label("平成30年度の年間経費（円）").fill("80000000")
    site.submit("登録する")
    expect(page.get_by_role("status")).to_contain_text("登録しました")
    expect(page.get_by_text("国の目標（3割削減）")).to_be_visible()
    check("usage: compared with FY2018")
    assert _fetch(site, f"/usage/{month}/report.csv", "text/csv").decode("utf-8-sig").startswith("団体コード")
    assert _fetch(site, f"/usage/{month}/report.pdf", "application/pdf").startswith(b"%PDF-")
    site.nav("サービス状況")
    expect(page.get_by_text("未計測（封印の機能が未導入）")).to_be_visible()
    check("service (own municipality)")
    site.nav("オープンデータ")
    check("open data: manage")
    page.get_by_label("異動の集計開始日").fill("2027-01-01")
    site.submit("公表案を作成する")
    assert site.status == 400
    check("open data: form errors")
    yesterday = date.today() - timedelta(days=1)
    page.get_by_label("基準日").fill(yesterday.isoformat())
    page.get_by_label("異動の集計開始日").fill("2026-04-01")
    site.submit("公表案を作成する")
    expect(page.get_by_role("heading", level=1)).to_contain_text("承認待ち")
    check("open data: draft")
    site.submit("承認して公表する")
    expect(page.get_by_role("heading", level=1)).to_contain_text("公表中")
    check("open data: published")
    site.logout()

    # Public again: the release and its files.
    site.goto("/opendata/")
    check("open data index")
    site.goto(f"/opendata/{CHIYODA}/")
    check("open data of a municipality")
    csv = _fetch(site, f"/opendata/{CHIYODA}/1/population.csv", "text/csv").decode("utf-8-sig")
    assert csv.startswith("町丁目,年齢階級,性別,人口") and ",X" in csv
    assert b'"suppressed": true' in _fetch(site, f"/opendata/{CHIYODA}/1/population.json", "application/json")

    # 運用者: every municipality's charges and service.
    site.login("", "operator")
    site.pass_mfa("operator")
    site.nav("利用料（全団体）")
    expect(page.get_by_text("（経費と一致）")).to_be_visible()
    check("operator usage")
    with page.expect_navigation():
        page.get_by_role("link", name=re.compile("千代田区")).first.click()
    check("operator usage: one municipality")
    site.nav("サービス状況（全団体）")
    expect(page.get_by_role("table").first).to_contain_text("千代田区")
    check("operator service")
    site.logout()

    assert not site.violations, "axe-core violations:\n" + "\n".join(site.violations)
    checked = {c.view for c in site.checked if c.status is not None and c.status < 500}
    missing = ops_routes() - checked - site.redirects - set(FILES)
    assert not missing, f"ops pages with no accessibility check: {sorted(missing)}"


def test_the_municipal_admin_works_without_javascript(nojs_site: Site) -> None:
    seed()
    site, page = nojs_site, nojs_site.page
    page.set_content("<p id=p>off</p><script>document.getElementById('p').textContent = 'on'</script>")
    expect(page.locator("#p")).to_have_text("off")
    site.login(CHIYODA, "admin")
    site.pass_mfa("admin")
    site.nav("利用量・利用料")
    page.get_by_label("年月").fill("2026-13")
    site.submit("表示")
    assert site.status == 400
    expect(page.locator("#id_month_error")).to_contain_text("年月は YYYY-MM の形で入力してください")
    page.get_by_label("平成30年度の年間経費（円）").fill("90000000")
    site.submit("登録する")
    expect(page.get_by_role("status")).to_contain_text("登録しました")
    site.nav("オープンデータ")
    yesterday = date.today() - timedelta(days=1)
    page.get_by_label("基準日").fill(yesterday.isoformat())
    page.get_by_label("異動の集計開始日").fill("2026-04-01")
    site.submit("公表案を作成する")
    site.submit("承認して公表する")
    expect(page.get_by_role("heading", level=1)).to_contain_text("公表中")
    site.nav("サービス状況")
    expect(page.get_by_role("heading", level=2).first).to_contain_text("千代田区")
