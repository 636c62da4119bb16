"""``lgcloud tax_assess``: the yearly 個人住民税 assessment of every taxpayer (resumable job)."""

from __future__ import annotations

import sys
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from lgcloud.core.jobs import JobBusy
from lgcloud.core.progress import job_progress, job_summary
from lgcloud.core.tenancy import TenantContext
from lgcloud.tax import actions


class Command(BaseCommand):
    help = "1月1日の住民のうち申告のある人の個人住民税を計算します（中断しても再実行で続きから）。"

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--municipality", required=True, help="団体コード（6桁）")
        parser.add_argument("--fiscal-year", type=int, required=True, help="年度（西暦、例: 2026 = 令和8年度）")
        parser.add_argument("--chunk-size", type=int, default=2000, help="1トランザクションあたりの人数")
        parser.add_argument("--dry-run", action="store_true", help="書き込まずに件数だけを数える")
        parser.add_argument("--no-progress", action="store_true", help="進捗バーを出さない")

    def handle(self, *args: Any, **options: Any) -> None:
        ctx = TenantContext.system(options["municipality"], purpose="tax.assessment")
        try:
            with job_progress("賦課計算", file=sys.stderr, disable=options["no_progress"]) as progress:
                job = actions.assess_fiscal_year(
                    ctx,
                    options["fiscal_year"],
                    dry_run=options["dry_run"],
                    chunk_size=options["chunk_size"],
                    on_progress=progress,
                )
        except JobBusy as exc:
            raise CommandError(str(exc)) from None
        self.stdout.write(job_summary(job))
        self.stdout.write(f"結果: {job.result}")
