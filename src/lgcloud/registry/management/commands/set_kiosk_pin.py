"""``lgcloud set_kiosk_pin --municipality CODE --atena NUMBER``: set a resident's コンビニ交付 PIN (read from stdin).

The PIN is read from standard input (never from the command line, where it
would show in the process list and the shell history). Setting a PIN also lifts
a lock after three wrong tries.
"""

from __future__ import annotations

import getpass
import sys
from typing import Any, TextIO

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.http import Http404

from lgcloud.core.tenancy import TenantContext
from lgcloud.registry.kiosk import set_kiosk_pin


class Command(BaseCommand):
    help = "住民のコンビニ交付用暗証番号（数字4桁）を標準入力から読み取って設定します（ロックも解除されます）。"
    stealth_options = ("stdin",)

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--municipality", required=True, metavar="CODE", help="団体コード（6桁）")
        parser.add_argument("--atena", required=True, metavar="NUMBER", help="宛名番号")

    def handle(self, *args: Any, **options: Any) -> None:
        stream: TextIO = options.get("stdin") or sys.stdin
        pin = getpass.getpass("暗証番号（数字4桁）: ") if stream.isatty() else stream.readline().strip()
        ctx = TenantContext.system(options["municipality"], purpose="registry.kiosk_pin", actor_name="set_kiosk_pin")
        try:
            set_kiosk_pin(ctx, atena_number=options["atena"], pin=pin)
        except ValidationError as exc:
            raise CommandError(" ".join(exc.messages)) from None
        except Http404:
            raise CommandError(f"宛名番号 {options['atena']} の住民が見つかりません。") from None
        self.stderr.write(f"宛名番号 {options['atena']} の暗証番号を設定しました。")
