"""Every staff page, in every state a person meets it in, has no axe-core (WCAG 2.1 AA) violations.

The tour signs in as each role through the real forms. At the end, every named route reachable
from ``lgcloud.urls`` (its own and those of every included URLconf, found by walking the resolver, not
from a hand-kept list) must have been checked, be a pure redirect to a checked page, be listed in
NOT_PAGES with the reason, or belong to a namespace in OWN_E2E_COVERAGE; so a new app's page
without an accessibility check fails here.
"""

from __future__ import annotations

import re
import time
from collections.abc import Iterable, Iterator
from datetime import date
from typing import Any

from django.urls import URLResolver
from playwright.sync_api import expect

from lgcloud import urls as root_urls

from .apps_tour import seed_apps, tour_apps
from .export_tour import tour_exports
from .helpers import CHIYODA, Site
from .linkage_tour import seed_linkage, tour_linkage
from .registry_tour import Residents, seed_registry, tour_registry
from .rules_tour import DOWNLOADS, seed_rules, tour_rules
from .test_ops_pages import TOURED_ELSEWHERE

# Pages that are not routes of their own but must be checked too.
SPECIAL_PAGES = {"404", "403", "locked out (429)", "logged out"}

# Namespaces whose every route is checked by their own browser test, which fails on a route it
# does not cover (tests/e2e/test_procedures.py walks procedures.urls and accounts.devidp_urls and
# asserts each was checked with axe, redirected, or is a listed non-HTML response).
OWN_E2E_COVERAGE = {
    "procedures": "tests/e2e/test_procedures.py (resident portal and review pages need the OIDC sign-in)",
    "dev_idp": "tests/e2e/test_procedures.py (the development OpenID Connect provider the portal signs in with)",
    "ops": "tests/e2e/test_ops_pages.py (usage, charges, service, open data, price list; it walks ops.urls)",
}

# Named routes that answer with something other than an HTML page, so axe has nothing to check.
NOT_PAGES = {
    "api": "the whole namespace: the REST API answers JSON / problem+json (tests/*/test_api.py); "
    "its only HTML is django-ninja's own OpenAPI viewer for developers, not an lgcloud page",
    "oauth_token": "OAuth 2.0 token endpoint: JSON, called server to server",
    "healthz": "health probe: JSON for load balancers",
    "metrics": "Prometheus text exposition",
    **dict.fromkeys(DOWNLOADS, "download (fetched and its content type checked in rules_tour.py)"),
}


def named_routes(patterns: Iterable[Any], namespace: str = "") -> Iterator[str]:
    """Every named route under ``patterns``, as ``resolve()`` names it (``ns:name``, nested)."""
    for p in patterns:
        if isinstance(p, URLResolver):
            yield from named_routes(p.url_patterns, f"{namespace}{p.namespace}:" if p.namespace else namespace)
        elif p.name:
            yield f"{namespace}{p.name}"


def routes_to_check() -> set[str]:
    routes = set()
    for route in named_routes(root_urls.urlpatterns):
        namespace = route.split(":", 1)[0] if ":" in route else None
        if route in TOURED_ELSEWHERE:
            routes.add(route)
            continue
        if namespace in OWN_E2E_COVERAGE or namespace in NOT_PAGES or route in NOT_PAGES:
            continue
        if namespace and namespace.startswith("api-"):
            continue  # an implementation's own API (JSON / problem+json), like the platform's "api"

        routes.add(route)
    return routes


def _issue_certificate(r: Residents) -> str:
    """A 住民票の写し issued through the registry's action; its verification code."""
    from django.utils import timezone

    from lgcloud.core.tenancy import TenantContext
    from lgcloud.registry.certificates import CertificateRequest, Requester, issue_certificate

    head = r.yoshida[0]
    requester = Requester(name="𠮷田 太郎", birth_date=date(1980, 4, 1), atena_number=head)
    request = CertificateRequest(kind="individual", atena_numbers=(head,), channel="counter", requester=requester)
    issued = issue_certificate(TenantContext.system(CHIYODA, "e2e"), request, today=timezone.localdate())
    return issued.verification_code


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

    # The app directory: 業務アプリ, its approval, and a 業務 a municipality does not use (apps_tour.py).
    seed_apps()
    tour_apps(site)

    # 住民記録担当: every 住民記録 page (tests/e2e/registry_tour.py).
    residents = seed_registry()
    tour_registry(site, residents)

    # The public verification page of a certificate (no sign-in): valid, and an unknown code.
    site.goto(f"/verify/{_issue_certificate(residents)}/")
    expect(page.get_by_role("status")).to_contain_text("有効")
    check("certificate verification: valid")
    site.goto("/verify/131016-AAAAA-AAAAA-AAAAA-AAAAA/")
    assert site.status == 404
    expect(page.get_by_role("status")).to_contain_text("見つかりません")
    check("certificate verification: unknown code")

    # 全件出力の承認: request, reject, approve (tests/e2e/export_tour.py).
    tour_exports(site)

    # 個人住民税・給付・児童手当・バッチ処理 (tests/e2e/rules_tour.py).
    tour_rules(site, seed_rules())

    # 連携: the webhook delivery log and 他団体からの転入 (tests/e2e/linkage_tour.py).
    tour_linkage(site, seed_linkage())

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

    routes = routes_to_check()
    assert {"web:dashboard", "registry:person", "linkage:transfer", "certificate_verify"} <= routes  # the walk works
    checked = {c.view for c in site.checked if c.status is not None and c.status < 500 and c.label not in SPECIAL_PAGES}
    missing = routes - checked - site.redirects
    assert not missing, f"pages with no accessibility check: {sorted(missing)}"
    labels = {c.label for c in site.checked}
    assert labels >= SPECIAL_PAGES, f"special pages not checked: {SPECIAL_PAGES - labels}"
