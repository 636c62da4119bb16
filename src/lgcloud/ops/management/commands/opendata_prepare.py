"""``lgcloud opendata_prepare``: prepare a municipality's open-data release (its 団体管理者 approves it on the page)."""

from __future__ import annotations

from typing import Any

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError, CommandParser

from lgcloud.core.tenancy import TenantContext
from lgcloud.ops.actions import prepare_release

from .usage_close import parse_day


class Command(BaseCommand):
    help = "オープンデータ（人口・世帯・異動）の公表案を作成します。公表は団体管理者が画面で承認します。"

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--municipality", required=True, help="団体コード")
        parser.add_argument("--reference-date", required=True, help="基準日（YYYY-MM-DD）")
        parser.add_argument("--since", required=True, help="異動の集計開始日（YYYY-MM-DD）")

    def handle(self, *args: Any, **options: Any) -> None:
        ctx = TenantContext.system(options["municipality"], purpose="ops.opendata", actor_name="opendata_prepare")
        try:
            release = prepare_release(
                ctx, reference_date=parse_day(options["reference_date"]), since=parse_day(options["since"])
            )
        except ValidationError as exc:
            raise CommandError(" ".join(exc.messages)) from None
        hidden = sum(len(v) for v in release.suppressed.values())
        self.stdout.write(
            f"公表案 第{release.number}号（基準日 {release.reference_date}）を作成しました。秘匿セル {hidden} 件。"
        )
