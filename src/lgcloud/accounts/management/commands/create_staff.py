"""``lgcloud create_staff --municipality CODE --username NAME --role ROLE``: onboarding scripts."""

from __future__ import annotations

import sys
from typing import Any

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError, CommandParser

from lgcloud.accounts.actions import create_staff
from lgcloud.core.checkdigits import CheckDigitError, validate_lg_code
from lgcloud.core.permissions import parse_role
from lgcloud.core.tenancy import TenantContext
from lgcloud.municipalities.queries import municipality_exists


class Command(BaseCommand):
    help = (
        "職員アカウントを作成します。パスワードは --password-stdin で標準入力から受け取るか、"
        "省略時は生成して表示します。運用者は --municipality を付けずに --role operator で作成します。"
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--municipality", metavar="CODE", help="所属団体の団体コード（6桁）")
        parser.add_argument("--username", required=True)
        parser.add_argument("--display-name", help="氏名（省略時はユーザー名）")
        parser.add_argument(
            "--role",
            action="append",
            required=True,
            metavar="ROLE",
            help="ロール（複数指定可）: counter, registry_clerk, tax_clerk, welfare_clerk, "
            "auditor, municipal_admin, operator",
        )
        parser.add_argument("--password-stdin", action="store_true", help="パスワードを標準入力の1行目から読む")

    def handle(self, *args: Any, **options: Any) -> None:
        code = options["municipality"]
        if code:
            try:
                validate_lg_code(code)
            except CheckDigitError as exc:
                raise CommandError(exc.message) from None
            if not municipality_exists(code):
                raise CommandError(
                    f"団体コード {code} の団体は登録されていません。"
                    "先に lgcloud load_municipalities を実行してください。"
                )
        try:
            roles = [parse_role(r) for r in options["role"]]
        except ValueError as exc:
            raise CommandError(str(exc)) from None
        password = None
        if options["password_stdin"]:
            password = sys.stdin.readline().rstrip("\r\n")
            if not password:
                raise CommandError("標準入力からパスワードを読み取れませんでした。")
        ctx = TenantContext.system(code, purpose="accounts.onboarding", actor_name="create_staff")
        try:
            created = create_staff(
                ctx,
                username=options["username"],
                display_name=options["display_name"] or options["username"],
                roles=roles,
                password=password,
            )
        except ValidationError as exc:
            raise CommandError("職員を作成できませんでした: " + " ".join(exc.messages)) from None
        staff = created.staff
        self.stdout.write(f"作成しました: {staff.login_id}（{', '.join(r.value for r in roles)}）")
        if created.generated_password:
            self.stdout.write(f"初期パスワード: {created.generated_password}")
