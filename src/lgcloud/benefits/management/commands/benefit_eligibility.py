"""``lgcloud benefit_eligibility``: list every household entitled to a programme (resumable job)."""

from __future__ import annotations

import sys
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from lgcloud.benefits import actions
from lgcloud.core.jobs import JobBusy
from lgcloud.core.progress import job_progress, job_summary
from lgcloud.core.tenancy import TenantContext


class Command(BaseCommand):
    help = "基準日の住民記録から、世帯ごとの給付対象者一覧をつくります（中断しても再実行で続きから）。"

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--municipality", required=True, help="団体コード（6桁）")
        parser.add_argument("--programme", required=True, help="プログラムのコード")
        parser.add_argument("--chunk-size", type=int, default=5000, help="1トランザクションあたりの世帯数")
        parser.add_argument("--dry-run", action="store_true", help="書き込まずに件数だけを数える")
        parser.add_argument("--no-progress", action="store_true", help="進捗バーを出さない")

    def handle(self, *args: Any, **options: Any) -> None:
        ctx = TenantContext.system(options["municipality"], purpose="benefits.eligibility")
        try:
            with job_progress("対象者抽出", file=sys.stderr, disable=options["no_progress"]) as progress:
                job = actions.determine_eligibility(
                    ctx,
                    options["programme"],
                    dry_run=options["dry_run"],
                    chunk_size=options["chunk_size"],
                    on_progress=progress,
                )
        except (actions.BenefitRefused, JobBusy) as exc:
            raise CommandError(str(exc)) from None
        self.stdout.write(job_summary(job))
        self.stdout.write(f"結果: {job.result}")
