"""Put one municipality's register back from a bundle exported from a restored backup (ops/restore.py).

LGCLOUD_DATABASE_URL=<scratch cluster> lgcloud export_standard --municipality 131041 --out /restore/131041
LGCLOUD_DATABASE_URL=<live cluster, owner role> lgcloud tenant_restore 131041 --bundle /restore/131041
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from lgcloud.ops.placement import MoveError
from lgcloud.ops.restore import restore_municipality


class Command(BaseCommand):
    help = "1つの団体の住民記録だけをバックアップから復元します（他の団体には触れません）。"

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("lg_code")
        parser.add_argument(
            "--bundle", required=True, type=Path, help="バックアップから出力した標準レイアウトのフォルダ"
        )
        parser.add_argument(
            "--no-freeze",
            action="store_true",
            help="書込み停止をしない（別クラスタの団体: 事前に tenant_directory --freeze で停止しておく）",
        )
        parser.add_argument("--work-dir", type=Path)

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            report = restore_municipality(
                options["lg_code"],
                options["bundle"],
                freeze=not options["no_freeze"],
                work_dir=options["work_dir"],
                log=self.stdout.write,
            )
        except MoveError as exc:
            raise CommandError(str(exc)) from exc
        rows = ", ".join(f"{table} {n:,}" for table, n in report.restored.items())
        self.stdout.write(
            f"restored {report.lg_code} from {report.source}: {rows}; writes refused for {report.frozen_seconds:.1f} s"
        )
