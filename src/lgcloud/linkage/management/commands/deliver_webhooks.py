"""``lgcloud deliver_webhooks [--once]``: push due webhook deliveries of every municipality on the platform."""

from __future__ import annotations

import time
from datetime import timedelta
from typing import Any

import httpx
from django.core.management.base import BaseCommand, CommandParser

from lgcloud.core.tenancy import TenantContext
from lgcloud.linkage.webhooks import DeliveryStats, WorkerSettings, deliver_due
from lgcloud.municipalities.queries import list_lg_codes


class Command(BaseCommand):
    help = (
        "Webhook の配信ワーカー。署名付き（Standard Webhooks）で送信し、失敗は指数バックオフで再試行、"
        "上限回数で停止（配信ログから再送できます）。--once で1巡して終了します。"
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--once", action="store_true", help="1巡して終了")
        parser.add_argument("--interval", type=float, default=0.2, help="配信がないときの待ち時間（秒）")
        parser.add_argument("--max-attempts", type=int, default=WorkerSettings.max_attempts, help="停止までの試行回数")
        parser.add_argument(
            "--backoff", type=float, default=WorkerSettings.base_delay.total_seconds(), help="最初の再試行までの秒数"
        )
        parser.add_argument(
            "--timeout", type=float, default=WorkerSettings.timeout_seconds, help="1回の送信の上限（秒）"
        )
        parser.add_argument("--municipality", action="append", metavar="CODE", help="この団体だけ（複数可）")

    def handle(self, *args: Any, **options: Any) -> None:
        cfg = WorkerSettings(
            max_attempts=options["max_attempts"],
            base_delay=timedelta(seconds=options["backoff"]),
            timeout_seconds=options["timeout"],
        )
        total = DeliveryStats()
        with httpx.Client(follow_redirects=False) as client:
            while True:
                codes = options["municipality"] or list_lg_codes(on_platform_only=True)
                busy = False
                for lg_code in codes:
                    ctx = TenantContext.system(lg_code, purpose="linkage.webhooks", actor_name="deliver_webhooks")
                    stats = deliver_due(ctx, client, cfg)
                    busy = busy or stats.attempted > 0
                    total.delivered += stats.delivered
                    total.failed += stats.failed
                    total.dead += stats.dead
                if options["once"]:
                    break
                if not busy:
                    time.sleep(options["interval"])
        self.stdout.write(f"送信済み {total.delivered} 件、再試行待ち {total.failed} 件、停止 {total.dead} 件")
