"""``lgcloud usage_report --municipality CODE --month YYYY-MM``: the month's charge report as CSV."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from lgcloud.ops.charges import charge_csv, compute_month


class Command(BaseCommand):
    help = "団体の月次利用料の明細を CSV で出力します。"

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--municipality", required=True, help="団体コード（6桁）")
        parser.add_argument("--month", required=True, help="年月（YYYY-MM）")

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            month = compute_month(options["month"])
        except ValueError as exc:
            raise CommandError(str(exc)) from None
        charge = month.charges.get(options["municipality"])
        if charge is None:
            raise CommandError(f"団体 {options['municipality']} はこの月に基盤を利用していません。")
        self.stdout.write(charge_csv(charge, month), ending="")
