"""With JavaScript switched off, staff still sign in (second factor included) and get work done."""

from __future__ import annotations

import re

from playwright.sync_api import expect

from .helpers import CHIYODA, Site


def test_sign_in_and_write_without_javascript(nojs_site: Site) -> None:
    site = nojs_site
    page = site.page
    # Proof the switch is on: a script the page would run does not.
    page.set_content("<p id=p>off</p><script>document.getElementById('p').textContent = 'on'</script>")
    expect(page.locator("#p")).to_have_text("off")

    site.login(CHIYODA, "admin")
    expect(page).to_have_url(re.compile(r"/login/mfa/$"))
    site.pass_mfa("admin")
    expect(page.get_by_role("heading", level=1)).to_have_text("東京都千代田区")

    site.nav("職員・ロール管理")
    page.get_by_label("ユーザー名").fill("takahashi")
    page.get_by_label("氏名").fill("高橋 三枝")
    page.get_by_role("group", name="ロール").get_by_label("住民記録担当").check()
    site.submit("登録する")
    expect(page.get_by_role("heading", level=1)).to_have_text("職員を登録しました")

    site.logout()

    site.login(CHIYODA, "counter")
    site.nav("API トークン")
    page.get_by_label("用途").fill("夜間バッチ")
    page.get_by_label("有効期間（日）").fill("30")
    site.submit("発行する")
    expect(page.locator("#issued-token")).to_have_text(re.compile(r"^lgc_"))
    row = page.get_by_role("row").filter(has_text="夜間バッチ")
    with page.expect_navigation():
        row.get_by_role("button", name=re.compile("^失効させる")).click()
    expect(page.get_by_role("row").filter(has_text="夜間バッチ")).to_contain_text("失効")

    site.logout()
    expect(page.get_by_role("status")).to_contain_text("ログアウトしました。")
