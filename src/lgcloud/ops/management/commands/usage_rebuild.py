"""``lgcloud usage_rebuild --day D``: recompute a day's request meters from the raw records and compare."""

from __future__ import annotations

from collections import defaultdict
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from lgcloud.core.tenancy import TenantContext
from lgcloud.ops import metering
from lgcloud.ops.actions import replace_meters
from lgcloud.ops.queries import usage_rows

from .usage_close import parse_day


class Command(BaseCommand):
    help = "生の記録（リクエストごとの記録）から日次のリクエスト計量を計算し直し、保存値と照合します。"

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--day", required=True, help="日（YYYY-MM-DD）")
        parser.add_argument("--write", action="store_true", help="食い違う団体の値を生の記録からの値で置き換える")
        parser.add_argument("--log-dir", help="生の記録のフォルダ（既定: LGCLOUD_USAGE_LOG_DIR）")

    def handle(self, *args: Any, **options: Any) -> None:
        day = parse_day(options["day"])
        metering.flush()
        raw = metering.read_raw(day, options["log_dir"])
        by_code: dict[str, dict[tuple[str, str], int]] = defaultdict(dict)
        for (code, gyomu, meter), q in raw.items():
            if code is not None:
                by_code[code][(gyomu, meter)] = q
        differing = 0
        for code in sorted(by_code):
            ctx = TenantContext.system(code, purpose="ops.usage_rebuild", actor_name="usage_rebuild")
            stored = {
                (g, m): q for _d, g, m, q in usage_rows(ctx, day, day) if m.startswith(metering.REQUEST_METER_PREFIXES)
            }
            wanted = by_code[code]
            if stored == wanted:
                continue
            differing += 1
            for key in sorted(set(stored) | set(wanted)):
                if stored.get(key) != wanted.get(key):
                    self.stdout.write(
                        f"{code} {key[0]} {key[1]}: 保存値 {stored.get(key, 0)} / 生の記録 {wanted.get(key, 0)}"
                    )
            if options["write"]:
                names = {m for _g, m in set(stored) | set(wanted)}
                replace_meters(ctx, day, names, [(g, m, q) for (g, m), q in wanted.items()])
        self.stdout.write(f"{day}: {len(by_code)} 団体を照合、食い違い {differing} 団体")
        if differing and not options["write"]:
            raise CommandError("保存値と生の記録が食い違います（--write で置き換えられます）。")
