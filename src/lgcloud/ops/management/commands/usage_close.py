"""``lgcloud usage_close``: derive and store the meters of a closed day (docs/metering.md)."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils import timezone

from lgcloud.municipalities.queries import list_lg_codes
from lgcloud.ops.daily import close_day


def parse_day(value: str) -> date:
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise CommandError(f"日付は YYYY-MM-DD の形で指定してください（指定値: {value!r}）。") from None


class Command(BaseCommand):
    help = "日次の計量（DB 容量・ファイル容量・バッチ時間・配信・申請・証明書交付）を確定します（既定: 前日）。"

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--day", help="確定する日（YYYY-MM-DD、既定: 前日）")
        parser.add_argument("--until", help="この日まで続けて確定する（YYYY-MM-DD）")
        parser.add_argument("--municipality", action="append", help="団体コード（複数可、既定: 利用中の全団体）")

    def handle(self, *args: Any, **options: Any) -> None:
        first = parse_day(options["day"]) if options["day"] else timezone.localdate() - timedelta(days=1)
        last = parse_day(options["until"]) if options["until"] else first
        if last < first:
            raise CommandError("--until は --day 以降の日付にしてください。")
        codes = options["municipality"] or list_lg_codes(on_platform_only=True)
        day = first
        while day <= last:
            closed = close_day(day, codes)
            self.stdout.write(f"{day}: {len(closed)} 団体、{sum(c.readings for c in closed):,} 件の計量値")
            day += timedelta(days=1)
