"""``lgcloud tax_import``: import income declarations (給与支払報告書-like CSV); all rows or none."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from lgcloud.core.tenancy import TenantContext
from lgcloud.tax import actions


class Command(BaseCommand):
    help = "申告データ（CSV、UTF-8）を取り込みます。誤りが1件でもあれば何も取り込みません。"

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--municipality", required=True, help="団体コード（6桁）")
        parser.add_argument("--fiscal-year", type=int, required=True, help="年度（西暦）")
        parser.add_argument("file", type=Path)

    def handle(self, *args: Any, **options: Any) -> None:
        ctx = TenantContext.system(options["municipality"], purpose="tax.import")
        try:
            result = actions.import_declarations(
                ctx,
                options["fiscal_year"],
                options["file"].read_text(encoding="utf-8-sig"),
                source=options["file"].name,
            )
        except actions.ImportRefused as refused:
            raise CommandError("\n".join(refused.messages[:50])) from None
        self.stdout.write(f"{result.fiscal_year}年度の申告 {result.imported:,} 件を取り込みました。")
