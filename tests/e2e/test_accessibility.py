"""Every staff page, in every state a person meets it in, has no axe-core (WCAG 2.1 AA) violations.

The tour signs in as each role through the real forms. At the end, every named route in
``lgcloud.web.urls``, ``lgcloud.registry.urls`` and ``lgcloud.portability.urls`` must have been checked
(or be a pure redirect to a checked page), so a new page without an accessibility check fails here.
"""

from __future__ import annotations

import re
import time

from playwright.sync_api import expect

from lgcloud.web import urls as web_urls

from .export_tour import ROUTES as EXPORT_ROUTES
from .export_tour import tour_exports
from .helpers import CHIYODA, Site
from .registry_tour import ROUTES as REGISTRY_ROUTES
from .registry_tour import seed_registry, tour_registry
from .rules_tour import ROUTES as RULES_ROUTES
from .rules_tour import seed_rules, tour_rules

# Pages that are not routes of their own but must be checked too.
SPECIAL_PAGES = {"404", "403", "locked out (429)", "logged out"}


def test_every_page_has_no_axe_violations(site: Site) -> None:
    page = site.page
    check = site.check_a11y

    # Anonymous: "/" sends to the sign-in page; its error states.
    site.goto("/")
    expect(page).to_have_url(re.compile(r"/login/$"))
    check("login")
    site.login(CHIYODA, "counter", "wrong-password-123")
    expect(page.get_by_role("alert")).to_be_visible()
    check("login: wrong password")
    site.login("131017", "counter")
    expect(page.locator("#id_lg_code_error")).to_be_visible()
    check("login: check digit error")

    # 窓口: dashboard, API tokens, and the 403 and 404 pages.
    site.login(CHIYODA, "counter")
    check("dashboard (counter)")
    site.nav("API トークン")
    check("tokens: none")
    site.submit("発行する")
    assert site.status == 400
    check("tokens: form errors")
    page.get_by_label("用途").fill("RPA")
    site.submit("発行する")
    expect(page.locator("#issued-token")).to_be_visible()
    check("tokens: issued")
    with page.expect_navigation():
        page.get_by_role("button", name=re.compile("^失効させる")).click()
    check("tokens: revoked")
    site.goto("/staff/")
    assert site.status == 403
    check("403")
    site.goto("/no-such-page/")
    assert site.status == 404
    check("404")
    site.goto("/dashboard/")
    site.logout()
    expect(page.get_by_role("status")).to_contain_text("ログアウトしました。")
    check("logged out")

    # 監査: the log with results, filtered, and with a validation error.
    site.login(CHIYODA, "auditor")
    site.nav("監査ログ")
    check("audit log")
    page.get_by_label("操作（前方一致）").fill("accounts")
    site.submit("検索")
    expect(page.get_by_role("table")).to_be_visible()
    check("audit log: filtered")
    page.get_by_label("開始日").fill("2025-05-02")
    page.get_by_label("終了日").fill("2025-05-01")
    site.submit("検索")
    assert site.status == 400
    check("audit log: invalid date range")
    site.logout()

    # 団体管理者: MFA enrolment (and its error), staff pages; tokens are refused to MFA roles.
    site.login(CHIYODA, "admin")
    expect(page.locator("#totp-secret")).to_be_visible()
    check("login/mfa: enrolment")
    page.get_by_label("確認コード").fill("000000")
    site.submit("確認")
    assert site.status == 400
    check("login/mfa: wrong code")
    time.sleep(1.1)  # django-otp throttles the device for 1 s after a wrong code
    site.pass_mfa("admin")
    check("dashboard (admin)")
    site.nav("職員・ロール管理")
    check("staff list")
    site.submit("登録する")
    assert site.status == 400
    check("staff list: empty form errors")
    page.get_by_label("ユーザー名").fill("sato")
    page.get_by_label("氏名").fill("佐藤 花")
    page.get_by_role("group", name="ロール").get_by_label("窓口").check()
    site.submit("登録する")
    expect(page.locator("#initial-password")).to_be_visible()
    check("staff created")
    with page.expect_navigation():
        page.get_by_role("link", name="職員一覧へ戻る").click()
    with page.expect_navigation():
        page.get_by_role("table").get_by_role("link", name="sato", exact=True).click()
    check("staff detail")
    site.submit("変更する")
    expect(page.get_by_role("status")).to_contain_text("ロールを変更しました。")
    check("staff detail: roles changed")
    page.get_by_role("group", name="ロール").get_by_label("窓口").uncheck()
    site.submit("変更する")
    assert site.status == 400
    check("staff detail: no role chosen")
    site.submit("パスワードを再発行する")
    expect(page.locator("#new-password")).to_be_visible()
    check("staff detail: new password")
    site.submit("二要素認証をリセットする")
    expect(page.get_by_role("status")).to_contain_text("二要素認証をリセットしました。")
    check("staff detail: MFA reset")
    site.submit("無効にする")
    check("staff detail: deactivated")
    site.nav("API トークン")
    expect(page.get_by_role("button", name="発行する")).to_have_count(0)
    check("tokens: not for MFA roles")
    site.logout()

    # 団体管理者 again: the verification page of an enrolled device; "/" when signed in.
    site.login(CHIYODA, "admin")
    expect(page.locator("#totp-secret")).to_have_count(0)
    check("login/mfa: verification")
    site.pass_mfa("admin")
    site.goto("/")
    expect(page).to_have_url(re.compile(r"/dashboard/$"))
    site.logout()

    # 運用者: municipalities (2 pages, search, detail, edit errors), health.
    site.login("", "operator")
    site.pass_mfa("operator")
    check("dashboard (operator)")
    site.nav("団体管理")
    check("operator municipalities")
    with page.expect_navigation():
        page.get_by_role("navigation", name="ページ送り").get_by_role("link", name="次のページ").click()
    expect(page.get_by_role("navigation", name="ページ送り")).to_contain_text("2 / 18")
    check("operator municipalities: page 2")
    page.get_by_role("textbox", name=re.compile("^団体コード")).fill("13101")
    site.submit("登録する")
    assert site.status == 400
    check("operator municipalities: create errors")
    page.get_by_label("団体名・カナ・コード").fill("千代田")
    site.submit("検索")
    with page.expect_navigation():
        page.get_by_role("link", name=CHIYODA).click()
    check("operator municipality")
    page.get_by_label("級地").select_option("2-1")
    site.submit("保存する")
    expect(page.get_by_role("status")).to_be_visible()
    check("operator municipality: saved")
    site.nav("稼働状況")
    check("operator health")
    site.logout()

    # 住民記録担当: every 住民記録 page (tests/e2e/registry_tour.py).
    tour_registry(site, seed_registry())

    # 全件出力の承認: request, reject, approve (tests/e2e/export_tour.py).
    tour_exports(site)

    # 個人住民税・給付・児童手当・バッチ処理 (tests/e2e/rules_tour.py).
    tour_rules(site, seed_rules())

    # Five failed sign-ins lock the account name.
    for _ in range(7):
        site.login(CHIYODA, "nobody", "wrong-password-123")
        if site.status == 429:
            break
    expect(page.get_by_role("heading", level=1)).to_have_text("ログインを一時停止しています")
    check("locked out (429)")

    # -- what was checked -------------------------------------------------------------------
    report = "\n".join(f"  {c.status} {c.url}  [{c.label}]" for c in site.checked)
    print(f"axe-core checked {len(site.checked)} pages:\n{report}")

    assert not site.violations, "axe-core violations:\n" + "\n".join(site.violations)

    routes = (
        {f"{web_urls.app_name}:{p.name}" for p in web_urls.urlpatterns if p.name}
        | REGISTRY_ROUTES
        | EXPORT_ROUTES
        | RULES_ROUTES
    )
    checked = {c.view for c in site.checked if c.status is not None and c.status < 500 and c.label not in SPECIAL_PAGES}
    missing = routes - checked - site.redirects
    assert not missing, f"pages with no accessibility check: {sorted(missing)}"
    labels = {c.label for c in site.checked}
    assert labels >= SPECIAL_PAGES, f"special pages not checked: {SPECIAL_PAGES - labels}"
