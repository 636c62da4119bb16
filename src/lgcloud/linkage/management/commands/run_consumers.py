"""``lgcloud run_consumers [--once]``: feed every registered internal consumer the events of every municipality."""

from __future__ import annotations

import time
from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from lgcloud.linkage.consumers import registered, run_all
from lgcloud.municipalities.queries import list_lg_codes


class Command(BaseCommand):
    help = (
        "内部の連携先（税務・給付・団体間転入など）に、各団体のイベントを順番どおり一度ずつ渡します。"
        "--once で1巡して終了します。"
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--once", action="store_true", help="1巡して終了")
        parser.add_argument("--interval", type=float, default=1.0, help="巡回の間隔（秒）")
        parser.add_argument("--consumer", action="append", metavar="NAME", help="この連携先だけ（複数可）")
        parser.add_argument("--municipality", action="append", metavar="CODE", help="この団体だけ（複数可）")

    def handle(self, *args: Any, **options: Any) -> None:
        names = sorted(registered())
        self.stderr.write(f"連携先: {', '.join(names) or 'なし'}")
        failed = False
        while True:
            codes = options["municipality"] or list_lg_codes(on_platform_only=True)
            run = run_all(codes, only=options["consumer"])
            for name, count in sorted(run.handled.items()):
                if count:
                    self.stdout.write(f"{name}: {count} 件")
            for where, error in sorted(run.failed.items()):
                failed = True
                self.stderr.write(f"失敗 {where}: {error}（次の巡回で同じイベントから再試行します）")
            if options["once"]:
                break
            time.sleep(options["interval"])
        if failed:
            raise SystemExit(1)
