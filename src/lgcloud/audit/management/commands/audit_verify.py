"""``lgcloud audit_verify [--municipality CODE]``: exit 0 when every chain is intact."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from lgcloud.audit.verify import verify_all, verify_chain
from lgcloud.municipalities.queries import list_lg_codes, municipality_exists


class Command(BaseCommand):
    help = "監査ログのハッシュチェーンを検証します（改ざん・削除・順序入替えを検出）。"

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--municipality", metavar="CODE", help="この団体のチェーンだけを検証する")

    def handle(self, *args: Any, **options: Any) -> None:
        code = options["municipality"]
        if code:
            if not municipality_exists(code):
                raise CommandError(f"団体コード {code} の団体は登録されていません。")
            results = [verify_chain(code)]
        else:
            results = list(verify_all(list_lg_codes()))
        bad = [r for r in results if not r.ok]
        total = sum(r.records for r in results)
        for r in bad:
            self.stderr.write(f"NG chain={r.chain} first bad record=#{r.bad_seq}: {r.reason}")
        if bad:
            raise CommandError(
                f"監査ログの改ざんを検出しました: {len(bad)} チェーン（最初: {bad[0].chain} #{bad[0].bad_seq}）"
            )
        self.stdout.write(f"OK: {len([r for r in results if r.records])} chains, {total} records intact")
