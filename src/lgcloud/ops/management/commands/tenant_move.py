"""Move one municipality's register to another cluster: freeze, export, import, verify, switch.

lgcloud tenant_move 131041 --to c2
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from lgcloud.ops.placement import MoveError, move_municipality


class Command(BaseCommand):
    help = "団体の住民記録を別のクラスタへ移設します（書込み停止 → 出力 → 取込み → 検証 → 切替）。"

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("lg_code")
        parser.add_argument("--to", required=True, dest="target", help="移設先のクラスタ名")
        parser.add_argument("--work-dir", type=Path, help="一時ファイルの置き場所（既定: システムの一時領域）")

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            report = move_municipality(
                options["lg_code"], options["target"], work_dir=options["work_dir"], log=self.stdout.write
            )
        except MoveError as exc:
            raise CommandError(str(exc)) from exc
        rows = ", ".join(f"{table} {n:,}" for table, n in report.counts.items())
        self.stdout.write(
            f"moved {report.lg_code}: {report.source} → {report.target}; {rows}; "
            f"writes refused for {report.frozen_seconds:.1f} s"
        )
