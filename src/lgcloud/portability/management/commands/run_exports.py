"""``lgcloud run_exports``: the worker that writes approved full exports (全件出力) and lapses stale requests."""

from __future__ import annotations

import time
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from lgcloud.core.tenancy import TenantContext
from lgcloud.municipalities.queries import list_lg_codes, municipality_exists
from lgcloud.portability.approvals.actions import run_approved


class Command(BaseCommand):
    help = (
        "承認済みの全件出力を承認者の権限で出力用フォルダ（LGCLOUD_EXPORT_DIR）へ書き出し、"
        "承認期限を過ぎた申請を期限切れにします。"
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--municipality", metavar="CODE", help="この団体だけ（省略時はすべての団体）")
        parser.add_argument(
            "--every", type=int, metavar="SECONDS", default=0, help="この秒数ごとに繰り返す（省略時は1回で終了）"
        )

    def handle(self, *args: Any, **options: Any) -> None:
        code = options["municipality"]
        if code and not municipality_exists(code):
            raise CommandError(f"団体コード {code} の団体はありません。")
        while True:
            for lg_code in [code] if code else list_lg_codes(on_platform_only=True):
                ctx = TenantContext.system(lg_code, purpose="portability.export.worker", actor_name="run_exports")
                for req in run_approved(ctx):
                    where = req.bundle or "-"
                    self.stdout.write(f"{lg_code} 申請 {req.pk}: {req.get_state_display()} {where}")
            if options["every"] <= 0:
                return
            time.sleep(options["every"])
