"""``lgcloud child_allowance_payments``: the 児童手当 payments of one pay month (resumable job)."""

from __future__ import annotations

import sys
from datetime import date
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from lgcloud.benefits import actions
from lgcloud.core.jobs import JobBusy
from lgcloud.core.progress import job_progress, job_summary
from lgcloud.core.tenancy import TenantContext


class Command(BaseCommand):
    help = "児童手当の支払月（偶数月）の支払額を計算します（前月までの分）。"

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--municipality", required=True, help="団体コード（6桁）")
        parser.add_argument("--pay-month", type=date.fromisoformat, required=True, help="支払月 YYYY-MM-01")
        parser.add_argument("--dry-run", action="store_true")
        parser.add_argument("--no-progress", action="store_true")

    def handle(self, *args: Any, **options: Any) -> None:
        ctx = TenantContext.system(options["municipality"], purpose="benefits.child_allowance")
        try:
            with job_progress("児童手当 支払", file=sys.stderr, disable=options["no_progress"]) as progress:
                job = actions.run_child_allowance_payments(
                    ctx, options["pay_month"], dry_run=options["dry_run"], on_progress=progress
                )
        except (actions.BenefitRefused, JobBusy) as exc:
            raise CommandError(str(exc)) from None
        self.stdout.write(job_summary(job))
        self.stdout.write(f"結果: {job.result}")
