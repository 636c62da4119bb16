"""``lgcloud apps``: the installed 業務 apps (implementations), their 業務 and versions, and who uses each."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from lgcloud.contract import GYOMU
from lgcloud.contract.discovery import installed
from lgcloud.core.tenancy import TenantContext
from lgcloud.municipalities import queries


class Command(BaseCommand):
    help = "インストールされている業務アプリ（実装）と、その業務・版・利用している団体を表示します。"

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--municipality", metavar="CODE", help="この団体が業務ごとに使っている実装を表示する")

    def handle(self, *args: Any, **options: Any) -> None:
        apps = installed()
        code = options["municipality"]
        if code:
            if queries.get_municipality(code) is None:
                raise CommandError(f"団体 {code} はありません。")
            active = queries.active_apps(code)
            self.stdout.write(f"団体 {code} が使っている業務アプリ（{len(active)}業務）")
            for gyomu, app_id in sorted(active.items()):
                m = apps[app_id]
                self.stdout.write(f"{gyomu}\t{GYOMU[gyomu].name}\t{app_id}\t{m.name}\t{m.version}")
            return
        users = queries.app_users(TenantContext.system(None, purpose="municipalities.apps", actor_name="lgcloud apps"))
        self.stdout.write(f"インストールされている業務アプリ: {len(apps)}件")
        self.stdout.write("実装ID\t業務\t名称\t提供者\t版\t契約\t標準レイアウト\t利用団体")
        for m in sorted(apps.values(), key=lambda m: (m.gyomu, m.id)):
            using = users.get(m.id, [])
            shown = ",".join(using[:10]) + (f" 他{len(using) - 10}団体" if len(using) > 10 else "")
            gyomu = f"{m.gyomu} {GYOMU[m.gyomu].name}" if m.gyomu else "―"
            self.stdout.write(
                f"{m.id}\t{gyomu}\t{m.name}\t{m.vendor}\t{m.version}\t{m.contract}\t{m.layout_version or '―'}"
                f"\t{len(using)}団体{(': ' + shown) if using else ''}"
            )
