"""``lgcloud export_standard``: a municipality's whole register as a standard-layout bundle."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from tqdm import tqdm

from lgcloud.core.tenancy import TenantContext, bound
from lgcloud.municipalities.queries import get_municipality
from lgcloud.portability.actions import ExportError, export_bundle
from lgcloud.portability.codec import LossyValue
from lgcloud.portability.queries import row_counts


class Command(BaseCommand):
    help = "団体の住民記録すべてを標準レイアウト（UTF-8 CSV と manifest.json）で出力します。"

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--municipality", required=True, help="団体コード（6桁）")
        parser.add_argument(
            "--out", required=True, type=Path, help="出力先フォルダ（新しいフォルダ、または空のフォルダ）"
        )
        parser.add_argument(
            "--without-individual-numbers", action="store_true", help="個人番号（individual_number.csv）を出力しない"
        )
        parser.add_argument("--no-progress", action="store_true", help="進捗バーを表示しない")

    def handle(self, *args: Any, **options: Any) -> None:
        code: str = options["municipality"]
        municipality = get_municipality(code)
        if municipality is None:
            raise CommandError(f"団体 {code} がありません。")
        ctx = TenantContext.system(code, purpose="export_standard", actor_name="export_standard (CLI)")
        with bound(ctx):
            total = sum(row_counts(ctx).values())
        bar = tqdm(total=total, unit="行", disable=options["no_progress"], desc="出力", file=self.stderr)
        try:
            result = export_bundle(
                ctx,
                options["out"],
                municipality_name=municipality.name,
                individual_numbers=not options["without_individual_numbers"],
                progress=lambda _entity, n: bar.update(n),
            )
        except (ExportError, LossyValue) as exc:
            raise CommandError(str(exc)) from None
        finally:
            bar.close()
        for entry in result.files:
            self.stdout.write(f"  {entry.file:<24} {entry.rows:>12,} 行  sha256 {entry.sha256}")
        self.stdout.write(self.style.SUCCESS(f"出力しました: {result.directory}"))
