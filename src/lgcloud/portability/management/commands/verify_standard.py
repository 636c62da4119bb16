"""``lgcloud verify_standard``: check a standard-layout bundle on its own (for vendors and before an import)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from lgcloud.portability.validate import DEFAULT_CAP, Report, verify_bundle


def print_report(command: BaseCommand, report: Report) -> None:
    for finding in report.findings:
        command.stderr.write(str(finding))
    if report.total > len(report.findings):
        command.stderr.write(
            f"…ほか {report.total - len(report.findings):,} 件（--max-errors で表示件数を変えられます）"
        )


class Command(BaseCommand):
    help = "標準レイアウトの出力フォルダを検査します（型・桁数・コード表・参照・検査数字・SHA-256）。"

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("directory", type=Path, help="manifest.json のあるフォルダ")
        parser.add_argument(
            "--max-errors", type=int, default=DEFAULT_CAP, help=f"表示する誤りの上限（既定 {DEFAULT_CAP}）"
        )

    def handle(self, *args: Any, **options: Any) -> None:
        report = verify_bundle(options["directory"], cap=options["max_errors"])
        if not report.ok:
            print_report(self, report)
            raise CommandError(f"誤りが {report.total:,} 件あります。")
        rows = ", ".join(f"{name} {n:,}" for name, n in report.counts.items())
        self.stdout.write(self.style.SUCCESS(f"誤りはありません（{rows}）。"))
