"""``lgcloud reset_mfa --username NAME [--municipality CODE]``: for a lost authenticator."""

from __future__ import annotations

from typing import Any

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError, CommandParser

from lgcloud.accounts.actions import reset_mfa
from lgcloud.accounts.queries import find_staff_by_username
from lgcloud.core.tenancy import TenantContext


class Command(BaseCommand):
    help = "職員の二要素認証（認証アプリ）の登録を取り消します。次回ログイン時に再登録します。"

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--username", required=True)
        parser.add_argument("--municipality", metavar="CODE", help="団体コード（運用者は空文字）")

    def handle(self, *args: Any, **options: Any) -> None:
        matches = find_staff_by_username(options["municipality"], options["username"])
        if len(matches) != 1:
            raise CommandError(
                f"ユーザー名 {options['username']} の職員が見つかりません。"
                if not matches
                else "同じユーザー名が複数の団体にあります。--municipality で指定してください。"
            )
        staff = matches[0]
        ctx = TenantContext.system(staff.municipality_id, purpose="accounts.mfa_reset", actor_name="reset_mfa")
        try:
            removed = reset_mfa(ctx, staff.pk)
        except ValidationError as exc:
            raise CommandError(" ".join(exc.messages)) from None
        self.stdout.write(
            f"{staff.login_id}: 認証アプリの登録を {removed} 件取り消しました。次回ログイン時に再登録します。"
        )
