"""``lgcloud load_municipalities``: load every municipality of Japan (idempotent)."""

from __future__ import annotations

import csv
from pathlib import Path
from typing import Any

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError, CommandParser

from lgcloud.core.tenancy import TenantContext
from lgcloud.municipalities.actions import load_municipalities, shipped_rows


class Command(BaseCommand):
    help = "全国の市区町村（東京都62団体を含む1,741団体）を団体マスタに読み込みます。何度実行しても同じ結果になります。"

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--file", type=Path, help="読み込む CSV（省略時は同梱の一覧）")
        parser.add_argument("--prefecture", metavar="CODE", help="この都道府県コード（例: 13）の団体だけを読み込む")
        parser.add_argument("--dry-run", action="store_true", help="検証だけ行い、書き込まない")

    def handle(self, *args: Any, **options: Any) -> None:
        if options["file"]:
            with options["file"].open(encoding="utf-8", newline="") as f:
                rows = list(csv.DictReader(f))
        else:
            rows = shipped_rows()
        if options["prefecture"]:
            rows = [r for r in rows if r["prefecture_code"] == options["prefecture"]]
        ctx = TenantContext.system(None, purpose="municipalities.load", actor_name="load_municipalities")
        try:
            result = load_municipalities(ctx, rows, dry_run=options["dry_run"])
        except ValidationError as exc:
            raise CommandError(
                "団体一覧に誤りがあるため、何も読み込みませんでした:\n" + "\n".join(exc.messages)
            ) from None
        if options["dry_run"]:
            self.stdout.write(f"検証OK: {result.total} 団体（--dry-run のため書き込みなし）")
            return
        self.stdout.write(f"団体マスタ: {result.total} 団体（新規 {result.created}、更新 {result.updated}）")
