"""Each role's work, through the real forms in Chromium."""

from __future__ import annotations

import json
import re
import urllib.error
import urllib.request
from typing import Any

from playwright.sync_api import Locator, expect

from .helpers import CHIYODA, Accounts, Site


def field_of(site: Site, label: str) -> Locator:
    """The .field block holding the control labelled ``label``: where its error must appear."""
    return site.page.locator(".field").filter(has=site.page.get_by_label(label, exact=False))


def api_get(url: str, token: str) -> tuple[int, Any]:
    request = urllib.request.Request(url, headers={"Authorization": f"Bearer {token}"})  # noqa: S310 (live server)
    try:
        with urllib.request.urlopen(request, timeout=10) as response:  # noqa: S310
            return response.status, json.load(response)
    except urllib.error.HTTPError as exc:
        return exc.code, json.load(exc)


def test_counter_signs_in_to_own_municipality(site: Site) -> None:
    site.login(CHIYODA, "counter")
    page = site.page
    expect(page).to_have_url(re.compile(r"/dashboard/$"))
    expect(page.get_by_role("heading", level=1)).to_have_text("東京都千代田区")
    expect(page.locator(".summary")).to_contain_text("窓口 花子")
    menu = page.get_by_role("navigation", name="メインメニュー")
    expect(menu.get_by_role("link", name="職員・ロール管理")).to_have_count(0)
    expect(menu.get_by_role("link", name="団体管理")).to_have_count(0)

    site.goto("/staff/")
    assert site.status == 403
    expect(page.get_by_role("heading", level=1)).to_have_text("権限がありません")


def test_counter_issues_and_revokes_an_api_token(site: Site, accounts: Accounts) -> None:
    page = site.page
    site.login(CHIYODA, "counter")
    site.nav("API トークン")
    page.get_by_label("用途").fill("住民異動の一括照会（RPA）")
    site.submit("発行する")
    expect(page.locator("#issued-token")).to_have_text(re.compile(r"^lgc_\S{20,}$"))
    raw = page.locator("#issued-token").inner_text()
    # The token shown is the one the API accepts (sent on its own, with no session cookie).
    status, body = api_get(f"{accounts.url}/api/v1/me", raw)
    assert status == 200, body
    assert body["staff"]["username"] == "counter"

    row = page.get_by_role("row").filter(has_text="住民異動の一括照会（RPA）")
    with page.expect_navigation():
        row.get_by_role("button", name=re.compile("^失効させる")).click()
    expect(page.get_by_role("status")).to_contain_text("トークンを失効させました。")
    expect(page.get_by_role("row").filter(has_text="住民異動の一括照会（RPA）")).to_contain_text("失効")
    expect(page.locator("#issued-token")).to_have_count(0)
    assert api_get(f"{accounts.url}/api/v1/me", raw)[0] == 401


def test_failed_sign_in_and_check_digit_errors_are_japanese(site: Site) -> None:
    page = site.page
    site.login(CHIYODA, "counter", "wrong-password-123")
    assert site.status == 400
    expect(page.get_by_role("alert")).to_contain_text("団体コード、ユーザー名またはパスワードが正しくありません。")
    expect(page).to_have_url(re.compile(r"/login/$"))

    site.login("131017", "counter")
    assert site.status == 400
    message = "団体コード 131017 の検査数字（6桁目）が正しくありません。正しくは 131016 です。"
    expect(field_of(site, "団体コード").locator(".field__error")).to_have_text(message)
    expect(page.get_by_label("団体コード")).to_have_attribute("aria-invalid", "true")
    expect(page.get_by_label("団体コード")).to_have_accessible_description(re.compile(re.escape(message)))


def test_auditor_searches_the_audit_log(site: Site) -> None:
    page = site.page
    site.login(CHIYODA, "auditor")
    site.nav("監査ログ")
    expect(page.get_by_role("heading", level=1)).to_have_text("監査ログ")
    table = page.get_by_role("table")
    expect(table.locator("caption")).to_contain_text(re.compile(r"該当 [1-9]\d* 件"))

    page.get_by_label("操作（前方一致）").fill("accounts.staff")
    site.submit("検索")
    assert site.status == 200
    actions = table.locator("tbody tr td:nth-child(6)").all_inner_texts()
    assert actions
    assert all(a.startswith("accounts.staff") for a in actions), actions

    page.get_by_label("開始日").fill("2025-05-02")
    page.get_by_label("終了日").fill("2025-05-01")
    site.submit("検索")
    assert site.status == 400
    expect(field_of(site, "終了日").locator(".field__error")).to_have_text("終了日は開始日以降の日付にしてください。")
    expect(page.get_by_role("table")).to_have_count(0)


def test_municipal_admin_enrols_mfa_and_manages_staff_and_tokens(site: Site) -> None:
    page = site.page
    site.login(CHIYODA, "admin")
    expect(page).to_have_url(re.compile(r"/login/mfa/$"))
    expect(page.get_by_role("heading", name="認証アプリの登録")).to_be_visible()
    site.goto("/staff/")  # held at the second factor until it is passed
    expect(page).to_have_url(re.compile(r"/login/mfa/$"))
    site.pass_mfa("admin")
    expect(page).to_have_url(re.compile(r"/dashboard/$"))
    expect(page.get_by_role("heading", level=1)).to_have_text("東京都千代田区")
    site.screenshot("dashboard")

    site.nav("職員・ロール管理")
    table = page.get_by_role("table")
    for username in ("admin", "auditor", "counter"):
        expect(table.get_by_role("link", name=username, exact=True)).to_be_visible()
    site.screenshot("staff_list")

    page.get_by_label("ユーザー名").fill("suzuki")
    page.get_by_label("氏名").fill("鈴木 一郎")
    page.get_by_role("group", name="ロール").get_by_label("税務担当").check()
    site.submit("登録する")
    expect(page.get_by_role("heading", level=1)).to_have_text("職員を登録しました")
    initial = page.locator("#initial-password").inner_text()
    assert len(initial) >= 12

    with page.expect_navigation():
        page.get_by_role("link", name="職員一覧へ戻る").click()
    with page.expect_navigation():
        page.get_by_role("table").get_by_role("link", name="suzuki", exact=True).click()
    expect(page.get_by_role("heading", level=1)).to_have_text("鈴木 一郎")
    roles = page.get_by_role("group", name="ロール")
    expect(roles.get_by_label("税務担当")).to_be_checked()
    roles.get_by_label("税務担当").uncheck()
    roles.get_by_label("福祉担当").check()
    site.submit("変更する")
    expect(page.get_by_role("status")).to_contain_text("ロールを変更しました。")
    expect(page.locator(".summary")).to_contain_text("福祉担当")
    expect(page.locator(".summary")).not_to_contain_text("税務担当")

    site.submit("パスワードを再発行する")
    reset = page.locator("#new-password").inner_text()
    assert len(reset) >= 12
    assert reset != initial

    # API tokens would sidestep the second factor: none for 団体管理者.
    site.nav("API トークン")
    expect(page.get_by_role("button", name="発行する")).to_have_count(0)
    expect(page.locator(".notice")).to_contain_text("API トークンを発行しません")


def test_operator_manages_municipalities(site: Site) -> None:
    page = site.page
    site.login("", "operator")
    expect(page).to_have_url(re.compile(r"/login/mfa/$"))
    site.pass_mfa("operator")
    expect(page.get_by_role("heading", level=1)).to_have_text("プラットフォーム運用")

    site.nav("団体管理")
    expect(page.get_by_role("table").locator("caption")).to_have_text("団体一覧（1741 団体）")
    expect(page.get_by_role("navigation", name="ページ送り")).to_contain_text("1 / 18")

    page.get_by_label("団体名・カナ・コード").fill("千代田")
    site.submit("検索")
    table = page.get_by_role("table")
    expect(table.locator("caption")).to_have_text("団体一覧（2 団体）")
    expect(table.locator("tbody")).to_contain_text("邑楽郡千代田町")
    with page.expect_navigation():
        page.get_by_role("link", name=CHIYODA).click()
    expect(page.get_by_role("heading", level=1)).to_have_text("東京都千代田区")

    page.get_by_label("級地").select_option("1-2")
    site.submit("保存する")
    expect(page.get_by_role("status")).to_contain_text("団体情報を更新しました。")
    expect(page.locator(".summary")).to_contain_text("1級地-2")

    site.nav("稼働状況")
    summary = page.locator(".summary")
    expect(summary).to_contain_text("正常")
    expect(summary).to_contain_text("1741 団体")
