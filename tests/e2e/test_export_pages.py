"""全件出力の承認 without JavaScript: a clerk requests, the 団体管理者 approves, the bundle is on the server."""

from __future__ import annotations

import hashlib
import re
from datetime import date
from pathlib import Path
from typing import Any

from playwright.sync_api import expect

from .helpers import CHIYODA, PASSWORD, Site


def test_request_and_approve_without_javascript(nojs_site: Site, settings: Any, tmp_path: Path) -> None:
    from lgcloud.accounts.actions import create_staff
    from lgcloud.core.permissions import Role
    from lgcloud.core.tenancy import TenantContext
    from lgcloud.registry.actions import NewPerson, register_move_in

    settings.EXPORT_DIR = tmp_path / "exports"
    ctx = TenantContext.system(CHIYODA, "e2e")
    create_staff(ctx, username="juki", display_name="住記 一子", roles=[Role.REGISTRY_CLERK], password=PASSWORD)
    register_move_in(
        ctx,
        persons=[NewPerson("山田", "太郎", "ヤマダ", "タロウ", date(1980, 4, 1), "1", "head")],
        address="東京都千代田区霞が関一丁目1番1号",
        effective_date=date(2024, 4, 1),
        filed_on=date(2024, 4, 2),
        previous_address="大阪府大阪市北区梅田一丁目1番1号",
    )
    site, page = nojs_site, nojs_site.page
    page.set_content("<p id=p>off</p><script>document.getElementById('p').textContent = 'on'</script>")
    expect(page.locator("#p")).to_have_text("off")

    site.login(CHIYODA, "juki")
    site.nav("全件出力")
    with page.expect_navigation():
        page.get_by_role("link", name="全件出力を申請する").click()
    page.get_by_label("出力の目的・理由").fill("移行先ベンダーへの受け渡し")
    site.submit("申請する")
    expect(page.locator("#export-state")).to_have_text("申請中")
    detail = page.url
    site.logout()

    site.login(CHIYODA, "admin")
    site.pass_mfa("admin")
    page.goto(detail)
    site.submit("承認して出力する")
    expect(page.locator("#export-state")).to_have_text("出力済")
    bundle = page.locator("#export-bundle").inner_text()
    assert re.fullmatch(rf"{CHIYODA}/\d{{8}}T\d{{6}}-\d+", bundle)
    manifest = settings.EXPORT_DIR / bundle / "manifest.json"
    assert manifest.is_file()
    expect(page.locator("#export-manifest-sha256")).to_have_text(hashlib.sha256(manifest.read_bytes()).hexdigest())
