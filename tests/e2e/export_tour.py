"""全件出力の承認 in the browser: every page of ``lgcloud.portability.urls`` in the states staff meet it in.

The 住民記録担当 ``juki`` (from registry_tour.seed_registry) requests; the 団体管理者 ``admin``
(enrolled in TOTP earlier in the tour) approves one request, which writes the real bundle into a
temporary LGCLOUD_EXPORT_DIR, and rejects another.
"""

from __future__ import annotations

import re
import tempfile
from pathlib import Path

from django.test import override_settings
from playwright.sync_api import expect

from lgcloud.portability import urls as portability_urls

from .helpers import CHIYODA, Site

ROUTES = {f"{portability_urls.app_name}:{p.name}" for p in portability_urls.urlpatterns if p.name}


def _open_request(site: Site, number: str) -> None:
    with site.page.expect_navigation():
        site.page.get_by_role("link", name=f"申請 {number}", exact=True).click()


def tour_exports(site: Site) -> None:
    page = site.page
    check = site.check_a11y
    with tempfile.TemporaryDirectory() as tmp, override_settings(EXPORT_DIR=Path(tmp)):
        site.login(CHIYODA, "juki")
        site.nav("全件出力")
        expect(page.get_by_role("heading", level=1)).to_have_text("全件出力の申請一覧")
        check("exports: none yet")
        with page.expect_navigation():
            page.get_by_role("navigation", name="全件出力メニュー").get_by_role(
                "link", name="全件出力を申請する"
            ).click()
        check("exports: request form")
        site.submit("申請する")
        assert site.status == 400
        expect(page.get_by_role("alert")).to_contain_text("出力の目的・理由を入力してください。")
        check("exports: request form errors")
        page.get_by_label("出力の目的・理由").fill("標準準拠システムへの移行（移行先ベンダーへの受け渡し）")
        page.get_by_label(re.compile("個人番号を含める")).check()
        site.submit("申請する")
        expect(page.get_by_role("status")).to_contain_text("全件出力を申請しました")
        expect(page.locator("#export-state")).to_have_text("申請中")
        expect(page.get_by_role("button", name="承認して出力する")).to_have_count(0)
        check("exports: own request (cancel only)")
        first = re.search(r"/exports/(\d+)/", page.url).group(1)  # type: ignore[union-attr]
        site.goto("/portability/exports/new/")
        page.get_by_label("出力の目的・理由").fill("試験用の出力")
        site.submit("申請する")
        second = re.search(r"/exports/(\d+)/", page.url).group(1)  # type: ignore[union-attr]
        site.goto("/portability/exports/")
        check("exports: list with requests")
        site.logout()

        site.login(CHIYODA, "admin")
        site.pass_mfa("admin")
        site.nav("全件出力")
        _open_request(site, second)
        check("exports: pending (approve / reject)")
        site.submit("却下する")
        assert site.status == 400
        check("exports: reject without a reason")
        page.get_by_label("却下の理由").fill("目的が具体的でないため")
        site.submit("却下する")
        expect(page.locator("#export-state")).to_have_text("却下")
        check("exports: rejected")
        site.nav("全件出力")
        _open_request(site, first)
        site.submit("承認して出力する")
        expect(page.get_by_role("status")).to_contain_text("承認し、出力しました。")
        expect(page.locator("#export-state")).to_have_text("出力済")
        bundle = page.locator("#export-bundle").inner_text()
        assert (Path(tmp) / bundle / "manifest.json").is_file()
        check("exports: completed (folder, counts, SHA-256)")
        site.logout()
