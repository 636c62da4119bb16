"""``lgcloud benefit_payments``: pay every payable household into a 全銀 総合振込 file (resumable job)."""

from __future__ import annotations

import sys
from datetime import date
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from lgcloud.benefits import actions, queries
from lgcloud.core.jobs import JobBusy
from lgcloud.core.progress import job_progress, job_summary
from lgcloud.core.tenancy import TenantContext


class Command(BaseCommand):
    help = "支払う世帯の振込データ（全銀協 総合振込、Shift_JIS 120バイト）をつくります。"

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--municipality", required=True, help="団体コード（6桁）")
        parser.add_argument("--programme", required=True, help="プログラムのコード")
        parser.add_argument("--transfer-date", type=date.fromisoformat, required=True, help="振込指定日 YYYY-MM-DD")
        parser.add_argument("--out", type=Path, help="全銀ファイルの書き出し先（省略時は保存のみ）")
        parser.add_argument("--chunk-size", type=int, default=5000)
        parser.add_argument("--dry-run", action="store_true", help="書き込まずに件数だけを数える")
        parser.add_argument("--no-progress", action="store_true")

    def handle(self, *args: Any, **options: Any) -> None:
        ctx = TenantContext.system(options["municipality"], purpose="benefits.payment")
        try:
            with job_progress("振込データ作成", file=sys.stderr, disable=options["no_progress"]) as progress:
                job = actions.create_payment_batch(
                    ctx,
                    options["programme"],
                    transfer_date=options["transfer_date"],
                    dry_run=options["dry_run"],
                    chunk_size=options["chunk_size"],
                    on_progress=progress,
                )
        except (actions.BenefitRefused, JobBusy) as exc:
            raise CommandError(str(exc)) from None
        self.stdout.write(job_summary(job))
        if options["out"] and not job.dry_run:
            name, content = queries.batch_file_for_job(ctx, job.pk)
            options["out"].write_bytes(content)
            self.stdout.write(f"{name} → {options['out']}（{len(content):,} バイト）")
