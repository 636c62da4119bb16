"""``lgcloud create_api_token --username NAME``: print a personal API token (shown once)."""

from __future__ import annotations

from typing import Any

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError, CommandParser

from lgcloud.accounts.actions import create_api_token
from lgcloud.accounts.queries import find_staff_by_username
from lgcloud.core.tenancy import TenantContext


class Command(BaseCommand):
    help = "職員の個人用 API トークンを発行して表示します（保存されるのはハッシュのみ）。"

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--username", required=True)
        parser.add_argument(
            "--municipality",
            metavar="CODE",
            help="団体コード（同じユーザー名が複数の団体にある場合は必須。運用者は空文字）",
        )
        parser.add_argument("--name", default="script", help="用途（一覧に表示されます）")
        parser.add_argument("--days", type=int, default=None, help="有効期間（日、既定 90）")

    def handle(self, *args: Any, **options: Any) -> None:
        matches = find_staff_by_username(options["municipality"], options["username"])
        if not matches:
            raise CommandError(f"ユーザー名 {options['username']} の職員が見つかりません。")
        if len(matches) > 1:
            codes = ", ".join(sorted(s.municipality_id or "（運用者）" for s in matches))
            raise CommandError(f"同じユーザー名が複数の団体にあります（{codes}）。--municipality で指定してください。")
        staff = matches[0]
        if not staff.is_active:
            raise CommandError("この職員は無効化されています。")
        ctx = TenantContext.system(staff.municipality_id, purpose="accounts.api_token", actor_name="create_api_token")
        try:
            issued = create_api_token(ctx, staff.pk, name=options["name"], days=options["days"])
        except ValidationError as exc:
            raise CommandError(" ".join(exc.messages)) from None
        self.stdout.write(issued.raw)
        self.stderr.write(
            f"{staff.login_id} のトークン（有効期限 {issued.token.expires_at:%Y-%m-%d}）。"
            "この表示の後は再表示できません。"
        )
