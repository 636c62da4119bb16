"""The app directory in the browser: the 団体管理者's 業務アプリ page, the operator's approval page,
and the page a municipality that does not use a 業務 meets at that 業務's address."""

from __future__ import annotations

import re

from playwright.sync_api import expect

from .helpers import CHIYODA, PASSWORD, Site

SAPPORO = "011002"  # in the municipality list, on no app: no 業務 chosen


def seed_apps() -> None:
    """A pending request of 札幌市 (for the operator to decide) and a clerk of 札幌市."""
    from django.utils import timezone

    from lgcloud.accounts.actions import create_staff
    from lgcloud.core.permissions import Role
    from lgcloud.core.tenancy import TenantContext
    from lgcloud.municipalities.actions import request_app

    sapporo = TenantContext.system(SAPPORO, "e2e")
    create_staff(sapporo, username="juki", display_name="札幌 住記", roles=[Role.REGISTRY_CLERK], password=PASSWORD)
    admin = TenantContext(SAPPORO, None, "札幌 管理", frozenset({Role.MUNICIPAL_ADMIN}), "e2e")
    request_app(admin, gyomu="001", app_id="lgcloud-registry", effective_from=timezone.localdate(), note="移行のため")


def tour_apps(site: Site) -> None:
    page = site.page
    check = site.check_a11y

    # 団体管理者 of 千代田区: what it uses, and a request the platform refuses (already in use).
    site.login(CHIYODA, "admin")
    site.pass_mfa("admin")
    site.nav("業務アプリ")
    expect(page.get_by_role("table", name="業務ごとの実装")).to_contain_text("lgcloud 住民記録")
    check("apps: in use")
    site.submit("申請する")
    assert site.status == 400
    check("apps: empty request")
    page.get_by_label("業務アプリ（実装）").select_option("lgcloud-registry")
    page.get_by_label("適用開始日").fill("2099-04-01")
    site.submit("申請する")
    assert site.status == 400
    expect(page.get_by_role("alert")).to_contain_text("既に lgcloud 住民記録 を使っています")
    check("apps: refused request")
    site.logout()

    # 札幌市 uses no 業務 yet: its clerk meets the Japanese page at each 業務's address.
    site.login(SAPPORO, "juki")
    for path, name in (("/registry/", "住民基本台帳"), ("/tax/", "個人住民税"), ("/benefits/", "児童手当")):
        site.goto(path)
        assert site.status == 404
        expect(page.get_by_role("heading", level=1)).to_have_text(f"{name}は利用していません")
        check(f"gyomu not enabled: {name}", municipality=SAPPORO)
    site.logout()

    # 運用者: the installed apps, a rejection without a reason, then the approval.
    site.login("", "operator")
    site.pass_mfa("operator")
    site.nav("業務アプリの承認")
    expect(page.get_by_role("heading", level=3)).to_contain_text("札幌市")
    check("operator apps: a pending request")
    site.submit("却下する")
    assert site.status == 400
    expect(page.get_by_role("alert")).to_contain_text("却下の理由")
    check("operator apps: rejection without a reason")
    site.submit("承認する")
    expect(page.get_by_role("status")).to_contain_text(re.compile("承認しました"))
    expect(page.get_by_text("承認待ちの申請はありません。")).to_be_visible()
    check("operator apps: approved")
    site.logout()
