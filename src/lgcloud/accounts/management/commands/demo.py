"""``lgcloud demo``: demo staff for 千代田区, 新宿区 and 八王子市, printed with their passwords.

Idempotent: passwords are derived from this installation's secret key, so a
second run prints the same ones and changes nothing.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
from typing import Any

from django.conf import settings
from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandError, CommandParser

from lgcloud.accounts.actions import create_staff, set_password_if_changed
from lgcloud.accounts.queries import find_staff_by_username
from lgcloud.core.permissions import Role
from lgcloud.core.tenancy import TenantContext
from lgcloud.municipalities.actions import update_municipality
from lgcloud.municipalities.queries import get_municipality, list_lg_codes

DEMO_MUNICIPALITIES = ("131016", "131041", "132012")  # 千代田区, 新宿区, 八王子市
DEMO_STAFF: tuple[tuple[str, str, Role], ...] = (
    ("counter", "窓口 花子", Role.COUNTER),
    ("registry", "住記 太郎", Role.REGISTRY_CLERK),
    ("tax", "税務 次郎", Role.TAX_CLERK),
    ("welfare", "福祉 三郎", Role.WELFARE_CLERK),
    ("auditor", "監査 四郎", Role.AUDITOR),
    ("admin", "管理 五郎", Role.MUNICIPAL_ADMIN),
)


def demo_password(login_id: str) -> str:
    digest = hmac.new(settings.SECRET_KEY.encode(), f"demo:{login_id}".encode(), hashlib.sha256).digest()
    return "Demo-" + base64.b32encode(digest).decode("ascii")[:16]


class Command(BaseCommand):
    help = "デモ用の職員アカウント（千代田区・新宿区・八王子市と運用者）を作成し、パスワードを表示します。"

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--force", action="store_true", help="本番設定（LGCLOUD_ENV=production）でも実行する")

    def handle(self, *args: Any, **options: Any) -> None:
        if not settings.DEVELOPMENT and not options["force"]:
            raise CommandError("デモデータは開発環境（LGCLOUD_ENV=development）でのみ作成します。")
        missing = [c for c in DEMO_MUNICIPALITIES if get_municipality(c) is None]
        if missing:
            raise CommandError(
                f"団体 {', '.join(missing)} がありません。先に lgcloud load_municipalities を実行してください。"
            )
        platform = TenantContext.system(None, purpose="demo", actor_name="demo")
        # The demo region: Tokyo's 62 municipalities are on the platform, each with the platform's
        # default implementation of every 業務 from the day it joined (a 団体管理者 can request others).
        for code in list_lg_codes():
            if code.startswith("13"):
                update_municipality(platform, code, on_platform=True)
        rows: list[tuple[str, str, str, str, str]] = []
        for code in DEMO_MUNICIPALITIES:
            municipality = get_municipality(code)
            if municipality is None:  # checked above; keeps the type checker honest
                raise CommandError(f"団体 {code} がありません。")
            ctx = TenantContext.system(code, purpose="demo", actor_name="demo")
            for username, display_name, role in DEMO_STAFF:
                rows.append(self._ensure(ctx, code, username, display_name, role, municipality.name))
        rows.append(self._ensure(platform, "", "operator", "運用 六子", Role.OPERATOR, "（運用者）"))

        self.stdout.write(
            "デモ用アカウント（開発環境専用。団体管理者・運用者は初回ログイン時に認証アプリを登録します）"
        )
        self.stdout.write(f"{'団体':<8}\t{'団体コード':<6}\t{'ユーザー名':<10}\t{'ロール':<16}\tパスワード")
        for row in rows:
            self.stdout.write("\t".join(row))
        # Residents with households and history for the same three municipalities (idempotent too).
        call_command("demo_residents", force=options["force"], stdout=self.stdout)

    def _ensure(
        self, ctx: TenantContext, code: str, username: str, display_name: str, role: Role, place: str
    ) -> tuple[str, str, str, str, str]:
        login_id_code = code or None
        password = demo_password(f"{code or 'platform'}/{username}")
        existing = [s for s in find_staff_by_username(code, username) if s.municipality_id == login_id_code]
        if existing:
            set_password_if_changed(ctx, existing[0].pk, password)
        else:
            create_staff(ctx, username=username, display_name=display_name, roles=[role], password=password)
        return (place, code or "（空欄）", username, f"{role.value}（{role.label}）", password)
