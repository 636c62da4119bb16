"""連携 in the browser: every page of ``lgcloud.linkage.urls`` in the states staff meet it in.

``seed_linkage`` works only through the real actions and workers: 千代田区 subscribes a webhook
to ``linkage.transfer.*`` at a loopback receiver that answers 500, 新宿区 records a 転出 of a
household to 千代田区 (131016), the ``linkage.transfers`` consumer turns it into a pending
transfer in 千代田区 (whose feed gets ``linkage.transfer.received``), and one pass of the webhook
worker with a single allowed attempt dead-letters that delivery. ``tour_linkage`` then visits, as
団体管理者, the delivery log (all, filtered, after 再送) and, as 住民記録担当, the pending transfers,
one transfer, its confirmation with an error and confirmed (the registry shows the 転入).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date

from playwright.sync_api import expect

from lgcloud.linkage import urls as linkage_urls

from .helpers import CHIYODA, Site

SHINJUKU = "131041"
ROUTES = {f"{linkage_urls.app_name}:{p.name}" for p in linkage_urls.urlpatterns if p.name}
SUBSCRIPTION = "税務システム（検証用）"
NEW_ADDRESS = "東京都千代田区神田駿河台二丁目3番"


@dataclass(frozen=True)
class Seeded:
    delivery: int  # the dead-lettered delivery's number


def seed_linkage() -> Seeded:
    import httpx
    from django.utils import timezone

    from lgcloud.core.tenancy import TenantContext
    from lgcloud.linkage import actions as linkage
    from lgcloud.linkage import queries
    from lgcloud.linkage.consumers import run_all
    from lgcloud.linkage.webhooks import WorkerSettings, deliver_due
    from lgcloud.municipalities.actions import update_municipality
    from lgcloud.registry import actions as registry
    from lgcloud.registry.actions import NewPerson
    from tests.linkage.receiver import receiver

    platform = TenantContext.system(None, "e2e")
    for code in (CHIYODA, SHINJUKU):
        update_municipality(platform, code, on_platform=True)
    chiyoda = TenantContext.system(CHIYODA, "e2e")
    shinjuku = TenantContext.system(SHINJUKU, "e2e")
    today = timezone.localdate()

    with receiver(statuses=[500]) as rx:
        linkage.create_subscription(chiyoda, name=SUBSCRIPTION, url=rx.url, event_types=["linkage.transfer.*"])
        family = registry.register_move_in(
            shinjuku,
            persons=[
                NewPerson("佐々木", "健太", "ササキ", "ケンタ", date(1978, 7, 7), "1", "head"),
                NewPerson("佐々木", "由美", "ササキ", "ユミ", date(1980, 8, 8), "2", "wife"),
            ],
            address="東京都新宿区西新宿二丁目8番1号",
            effective_date=date(2020, 4, 1),
            filed_on=date(2020, 4, 1),
            previous_address="神奈川県横浜市中区本町六丁目50番地10",
        )
        registry.register_move_out(
            shinjuku,
            atena_numbers=family.atena_numbers,
            planned_date=today,
            filed_on=today,
            destination=NEW_ADDRESS,
            destination_lg_code=CHIYODA,
        )
        moved = run_all([SHINJUKU], only=["linkage.transfers"])
        assert moved.handled.get("linkage.transfers", 0) >= 2, moved
        worker = TenantContext.system(CHIYODA, purpose="linkage.webhooks", actor_name="deliver_webhooks")
        with httpx.Client() as http:
            stats = deliver_due(worker, http, WorkerSettings(max_attempts=1, timeout_seconds=5))
        assert (stats.dead, stats.codes) == (1, [500]), stats
        assert len(rx.received) == 1
    (dead,) = queries.list_deliveries(worker, status="dead")
    return Seeded(delivery=dead.pk)


def tour_linkage(site: Site, seeded: Seeded) -> None:
    page = site.page
    check = site.check_a11y

    # 団体管理者: the delivery log with the dead letter, filtered, and after 再送.
    site.login(CHIYODA, "admin")
    site.pass_mfa("admin")
    site.nav("連携（配信ログ）")
    expect(page.get_by_role("heading", level=1)).to_have_text("Webhook 配信ログ")
    deliveries = page.get_by_role("table", name=re.compile("^配信"))
    row = deliveries.get_by_role("row").filter(has_text="linkage.transfer.received")
    expect(row).to_contain_text("送信失敗（停止）")
    expect(row).to_contain_text("HTTP 500")
    expect(page.get_by_role("table", name=re.compile("^登録されている送信先"))).to_contain_text(SUBSCRIPTION)
    check("linkage: delivery log (a dead letter)")
    page.get_by_label("状態").select_option("delivered")
    site.submit("表示")
    expect(page.get_by_role("table", name=re.compile("^配信"))).to_contain_text("該当する配信はありません。")
    check("linkage: delivery log, filtered (none)")
    page.get_by_label("状態").select_option("dead")
    site.submit("表示")
    # The hidden part of the button's name is absolutely positioned: Chromium puts a space before it.
    with page.expect_navigation():
        page.get_by_role("button", name=re.compile(rf"^再送\s*（配信 {seeded.delivery}）$")).click()
    expect(page.get_by_role("status")).to_contain_text(f"配信 {seeded.delivery} を再送の対象にしました。")
    row = page.get_by_role("table", name=re.compile("^配信")).get_by_role("row").filter(has_text="linkage.transfer")
    expect(row).to_contain_text("送信待ち")
    check("linkage: delivery log after 再送")
    site.logout()

    # 住民記録担当: the pending transfer from 新宿区, its page, an error, then the 転入.
    site.login(CHIYODA, "juki")
    site.nav("他団体からの転入")
    expect(page.get_by_role("table", name=re.compile("^確認待ちの転入予定"))).to_contain_text("新宿区")
    check("linkage: pending transfers")
    with page.expect_navigation():
        page.get_by_role("link", name=re.compile("^確認・転入処理")).click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("新宿区")
    persons = page.get_by_role("table", name=re.compile("^転入する人"))
    wife = persons.get_by_role("row").filter(has_text="佐々木　由美")
    expect(wife).to_contain_text("妻")  # 続柄 in words, not the payload's code
    expect(wife).not_to_contain_text("wife")
    expect(wife).to_contain_text("昭和55年8月8日（1980-08-08）")
    check("linkage: one transfer")
    transfer_url = page.url
    page.get_by_label("新しい住所").fill("")
    site.submit("転入を確定する")
    assert site.status == 400
    expect(page.locator("#id_address_error")).to_be_visible()
    expect(page.get_by_role("alert")).to_contain_text("新しい住所")
    check("linkage: confirmation errors")
    page.get_by_label("新しい住所").fill(NEW_ADDRESS)
    page.get_by_label("方書").fill("201号")
    site.submit("転入を確定する")
    expect(page.get_by_role("status")).to_contain_text("転入を処理しました")
    expect(page.get_by_role("heading", level=1)).to_contain_text("佐々木")
    expect(page.get_by_role("main")).to_contain_text(NEW_ADDRESS)
    check("linkage: confirmed (the registry shows the 転入)")
    site.goto(transfer_url)
    expect(page.get_by_text("この転入予定は処理済みです")).to_be_visible()
    expect(page.get_by_role("button", name="転入を確定する")).to_have_count(0)
    check("linkage: a transfer already confirmed")
    site.nav("他団体からの転入")
    expect(page.get_by_role("table")).to_contain_text("確認待ちの転入予定はありません。")
    check("linkage: no pending transfers")
    site.logout()
