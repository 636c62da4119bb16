"""``lgcloud create_api_client --municipality CODE --name NAME --scopes …``: register another system."""

from __future__ import annotations

from typing import Any

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError, CommandParser

from lgcloud.core.tenancy import TenantContext
from lgcloud.linkage.actions import create_api_client
from lgcloud.linkage.parameters import all_scopes
from lgcloud.municipalities.queries import get_municipality


class Command(BaseCommand):
    help = (
        "外部システム（他社の税務システム、中間サーバー、近隣団体など）を API クライアントとして登録し、"
        "OAuth 2.0 クライアントクレデンシャル（client_id と client_secret）を表示します。"
        "client_secret はこの表示の後は再表示できません。"
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--municipality", required=True, metavar="CODE", help="団体コード（6桁）")
        parser.add_argument("--name", required=True, help="クライアントの名称（団体内で一意）")
        parser.add_argument(
            "--scopes",
            required=True,
            nargs="+",
            metavar="SCOPE",
            help="スコープ（events:read、利用目的のコード。一覧: " + ", ".join(sorted(all_scopes())) + "）",
        )
        parser.add_argument("--organisation", default="", help="利用機関（例: 〇〇税務システム株式会社）")

    def handle(self, *args: Any, **options: Any) -> None:
        lg_code = options["municipality"]
        municipality = get_municipality(lg_code)
        if municipality is None:
            raise CommandError(f"団体コード {lg_code} の団体は基盤にありません。")
        ctx = TenantContext.system(lg_code, purpose="linkage.client", actor_name="create_api_client")
        scopes = [s for value in options["scopes"] for s in value.replace(",", " ").split()]
        try:
            issued = create_api_client(ctx, name=options["name"], scopes=scopes, organisation=options["organisation"])
        except ValidationError as exc:
            raise CommandError(" ".join(exc.messages)) from None
        self.stdout.write(f"client_id={issued.client_id}\nclient_secret={issued.client_secret}\n")
        self.stderr.write(
            f"{municipality.name} の API クライアント「{issued.client.name}」"
            f"（スコープ: {' '.join(issued.client.scopes)}）。"
            "トークンは POST /oauth/token/（grant_type=client_credentials）で取得します。"
            "client_secret はこの表示の後は再表示できません。"
        )
