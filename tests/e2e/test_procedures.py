"""オンライン申請 in Chromium: the end-to-end flow and axe-core on every page of the procedures app.

A resident signs in through the development OpenID Connect provider, files a 転居届 whose
prefilled items come from the registry, a 住民記録担当 claims and approves it, the registry shows
the new address with the 異動日 the resident gave, and the resident sees the result. Every
resident and staff page met on the way (and the remaining ones) is checked with axe-core; at
the end every named route of ``lgcloud.procedures.urls`` and ``lgcloud.accounts.devidp_urls``
must have been checked, be a redirect, or be listed below as a non-HTML response.
"""

from __future__ import annotations

import re
from datetime import timedelta
from pathlib import Path
from typing import Any

from playwright.sync_api import expect

from lgcloud.accounts import devidp_urls
from lgcloud.procedures import urls as procedure_urls

from .helpers import CHIYODA, PASSWORD, Site

# Routes that answer with something other than an HTML page (no axe check possible), with why.
NOT_HTML = {
    "procedures:paper_form": "PDF (checked for %PDF below)",
    "procedures:counter_paper": "PDF (checked for %PDF below)",
    "procedures:attachment": "file download",
    "procedures:access_log_proof": "JSON download (tests/procedures/test_access_log_page.py)",
    "dev_idp:discovery": "JSON",
    "dev_idp:jwks": "JSON",
    "dev_idp:token": "JSON, called server to server",
}


def _seed(live_url: str, settings: Any) -> str:
    import yaml
    from django.utils import timezone

    from lgcloud.accounts.actions import create_staff
    from lgcloud.benefits import actions as benefits
    from lgcloud.core.permissions import Role
    from lgcloud.core.tenancy import TenantContext
    from lgcloud.municipalities.actions import update_municipality
    from lgcloud.procedures.actions import publish_definitions
    from lgcloud.registry.actions import NewPerson, register_move_in

    settings.PUBLIC_URL = live_url
    settings.OIDC_ISSUER = f"{live_url}/dev-idp"
    platform = TenantContext.system(None, "e2e")
    update_municipality(platform, CHIYODA, on_platform=True)
    publish_definitions(platform)
    ctx = TenantContext.system(CHIYODA, "e2e")
    create_staff(ctx, username="juki", display_name="住記 一子", roles=[Role.REGISTRY_CLERK], password=PASSWORD)
    today = timezone.localdate()
    moved = register_move_in(
        ctx,
        persons=[
            NewPerson("𠮷田", "太郎", "ヨシダ", "タロウ", today.replace(year=today.year - 45), "1", "head"),
            NewPerson("𠮷田", "花子", "ヨシダ", "ハナコ", today.replace(year=today.year - 43), "2", "wife"),
        ],
        address="東京都千代田区霞が関一丁目1番1号",
        effective_date=today - timedelta(days=400),
        filed_on=today - timedelta(days=400),
        previous_address="大阪府大阪市北区梅田一丁目1番1号",
    )
    # A flat benefit taking applications, and the head's 公金受取口座, for the 給付金の申請 form.
    welfare = TenantContext(CHIYODA, None, "福祉 e2e", frozenset({Role.WELFARE_CLERK}), "e2e")
    source = (Path(benefits.__file__).parent / "programmes" / "tokubetsu-teigaku-2020.yaml").read_bytes()
    data = yaml.safe_load(source) | {"code": "kyufu-e2e", "reference_date": today - timedelta(days=100)}
    benefits.load_programme(welfare, data, source=source + b"e2e")
    benefits.determine_eligibility(welfare, "kyufu-e2e")
    account = benefits.AccountInput("0001", "001", 1, "7654321", "ヨシダ タロウ")
    benefits.register_account(welfare, moved.atena_numbers[0], "public_funds", account)
    return moved.atena_numbers[0]


def test_resident_files_a_move_and_the_clerk_approves_it(
    site: Site, browser: Any, accounts: Any, axe_source: str, settings: Any
) -> None:
    from django.utils import timezone

    atena = _seed(accounts.url, settings)
    page = site.page
    check = site.check_a11y
    moved_on = timezone.localdate() - timedelta(days=5)

    # Resident: the portal, help in やさしい日本語, then sign-in with the development provider.
    site.goto(f"/portal/{CHIYODA}/")
    check("portal (signed out)")
    with page.expect_navigation():
        page.get_by_role("link", name=re.compile("使い方")).click()
    check("portal help")
    site.goto(f"/portal/{CHIYODA}/")
    with page.expect_navigation():
        page.get_by_role("link", name="マイナンバーカードでログイン").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("開発用 認証サービス")
    check("dev provider: sign-in")
    page.get_by_label("団体コード（6桁）").fill(CHIYODA)
    page.get_by_label("宛名番号（10桁）").fill("9999999999")
    site.submit("この住民として認証する")
    expect(page.get_by_role("alert")).to_be_visible()
    check("dev provider: unknown resident")
    page.get_by_label("宛名番号（10桁）").fill(atena)
    site.submit("この住民として認証する")
    expect(page.get_by_role("status")).to_contain_text("𠮷田　太郎 さんとしてログインしました。")
    check("portal (signed in, no submissions)")

    # 転居届: prefilled from the registry with the source; an empty submit shows errors.
    with page.expect_navigation():
        page.get_by_role("link", name="転居届", exact=True).click()
    expect(page.locator(".prefill-table")).to_contain_text("東京都千代田区霞が関一丁目1番1号")
    expect(page.locator(".prefill-table")).to_contain_text("千代田区の住民記録")
    check("procedure form: 転居届")
    site.submit("送信する")
    assert site.status == 400
    check("procedure form: errors")
    page.get_by_label("転居した日（異動日）").fill(moved_on.isoformat())
    page.get_by_label("新しい住所").fill("東京都千代田区丸の内二丁目2番2号")
    page.get_by_label("世帯全員").check()
    site.submit("送信する")
    expect(page.locator("#status")).to_contain_text("受付済み")
    number = int(re.search(r"/submissions/(\d+)/", page.url).group(1))  # type: ignore[union-attr]
    check("submission status: submitted")

    # ふりがな and large text, by keyboard-reachable buttons (no JavaScript needed).
    site.submit("ふりがな：なし")
    site.submit("文字の大きさ：標準")
    expect(page.locator("ruby").first).to_be_visible()
    check("submission status: furigana + large text")
    for code in ("move_out", "certificate_by_post", "child_allowance", "emergency_benefit"):
        site.goto(f"/portal/{CHIYODA}/procedures/{code}/")
        check(f"procedure form: {code} (furigana)")
    # 給付金の申請: the open programme to choose, the 公金受取口座 on file shown masked with its source.
    expect(page.get_by_label(re.compile("特別定額給付金"))).to_be_visible()
    expect(page.locator(".prefill-table")).to_contain_text("＊＊＊＊321")
    expect(page.locator(".prefill-table")).to_contain_text("公金受取口座（国に登録された口座")
    pdf = page.request.get(f"/portal/{CHIYODA}/procedures/address_change/paper.pdf")
    assert pdf.ok and pdf.body().startswith(b"%PDF")
    site.checked.append(type(site.checked[0])("paper PDF", pdf.url, 200, "procedures:paper_form"))

    # Clerk (another browser): queue, the submission beside the registry, claim, approve.
    clerk_context = browser.new_context(base_url=accounts.url, locale="ja-JP", timezone_id="Asia/Tokyo")
    clerk = Site(clerk_context.new_page(), axe_source)
    clerk.login(CHIYODA, "juki")
    clerk.nav("オンライン申請の審査")
    check_c = clerk.check_a11y
    check_c("review queue")
    with clerk.page.expect_navigation():
        clerk.page.get_by_role("link", name=str(number), exact=True).click()
    expect(clerk.page.locator("table.compare")).to_contain_text("相違あり")
    check_c("review detail: submitted")
    clerk.submit("審査を開始する")
    check_c("review detail: in review")
    clerk.submit("承認して処理する")
    expect(clerk.page.locator("#status")).to_contain_text("承認")
    check_c("review detail: approved")
    clerk.goto(f"/registry/persons/{atena}/")
    expect(clerk.page.get_by_text("東京都千代田区丸の内二丁目2番2号").first).to_be_visible()
    expect(clerk.page.get_by_text(moved_on.isoformat()).first).to_be_visible()  # 住定日 = the 異動日 given
    # Counter-assisted filing, with its errors.
    clerk.nav("窓口代理入力")
    check_c("counter start")
    clerk.submit("入力を始める")
    assert clerk.status == 400
    check_c("counter start: errors")
    clerk.page.get_by_label("手続").select_option("move_out")
    clerk.page.get_by_label("申請者の宛名番号").fill(atena)
    clerk.page.get_by_label("申請者ご本人がいることを本人確認書類で確認した").check()
    clerk.submit("入力を始める")
    check_c("counter form")
    paper = clerk.page.request.get(f"/procedures/counter/move_out/{atena}/paper.pdf")
    assert paper.ok and paper.body().startswith(b"%PDF")
    clerk.page.get_by_label("転出する日（予定）").fill((timezone.localdate() + timedelta(days=10)).isoformat())
    clerk.page.get_by_label("転出先の住所").fill("大阪府大阪市北区梅田二丁目2番2号")
    clerk.page.get_by_label("世帯全員").check()
    clerk.submit("代理入力で受け付ける")
    expect(clerk.page.locator("dl.summary").first).to_contain_text("代理入力")
    check_c("review detail: counter-assisted")
    clerk_context.close()

    # Resident: the result, then sign-out.
    site.goto(f"/portal/{CHIYODA}/submissions/{number}/")
    expect(page.locator("#status")).to_contain_text("承認")
    expect(page.get_by_text("住民記録に反映しました")).to_be_visible()
    check("submission status: approved")
    site.goto(f"/portal/{CHIYODA}/")
    check("portal (signed in, with submissions)")
    with page.expect_navigation():
        page.locator(f'a[href="/portal/{CHIYODA}/access-log/"]').click()  # its text may carry ふりがな
    expect(page.get_by_role("heading", level=1)).to_contain_text("見")
    expect(page.get_by_role("cell", name="住民記録担当").first).to_be_visible()  # the clerk, by role only
    check("access log (who read my data)")
    site.submit("ログアウト")
    check("portal: signed out")
    site.goto("/portal/callback/?state=x&code=y")
    assert site.status == 400
    check("sign-in expired")

    violations = site.violations + clerk.violations
    assert not violations, "axe-core violations:\n" + "\n".join(violations)
    routes = {f"{procedure_urls.app_name}:{p.name}" for p in procedure_urls.urlpatterns if p.name}
    routes |= {f"{devidp_urls.app_name}:{p.name}" for p in devidp_urls.urlpatterns if p.name}
    checked = {c.view for c in site.checked + clerk.checked if c.status is not None and c.status < 500}
    missing = routes - checked - site.redirects - clerk.redirects - set(NOT_HTML)
    assert not missing, f"pages with no accessibility check: {sorted(missing)}"
