"""``lgcloud audit_verify [--municipality CODE] [--tree-head FILE …]``: exit 0 when every chain is intact."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from django.core.exceptions import ImproperlyConfigured
from django.core.management.base import BaseCommand, CommandError, CommandParser

from lgcloud.audit.verify import ChainResult, trusted_keys, verify_all, verify_chain
from lgcloud.municipalities.queries import list_lg_codes, municipality_exists


class Command(BaseCommand):
    help = (
        "監査ログを検証します: 封印済みの記録を記録そのものから木に組み直し、署名済みツリーヘッドと照合します"
        "（改ざん・削除・挿入・順序入替え・末尾の切り取りを検出）。"
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--municipality", metavar="CODE", help="この団体のチェーンだけを検証する（platform も可）")
        parser.add_argument(
            "--tree-head",
            action="append",
            default=[],
            metavar="FILE",
            help="立会人（witness）が保管するツリーヘッドの JSON（lgcloud audit_tree_head の出力）とも照合する。複数可",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        code = options["municipality"]
        witnessed = [self._read(Path(p)) for p in options["tree_head"]]
        if witnessed and not code:
            raise CommandError("--tree-head を使うときは --municipality でチェーンを指定してください。")
        try:
            keys = trusted_keys()
        except ImproperlyConfigured as exc:
            raise CommandError(str(exc)) from None
        if code:
            if code != "platform" and not municipality_exists(code):
                raise CommandError(f"団体コード {code} の団体は登録されていません。")
            lg_code = None if code == "platform" else code
            results = [verify_chain(lg_code, trusted=keys, witnessed=witnessed)]
        else:
            results = list(verify_all(list_lg_codes()))
        self._report(results)

    def _read(self, path: Path) -> dict[str, object]:
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
            raise CommandError(f"ツリーヘッドのファイル {path} を読めません: {exc}") from None
        if not isinstance(data, dict) or "checkpoint" not in data:
            raise CommandError(f"{path} はツリーヘッドの JSON（lgcloud audit_tree_head の出力）ではありません。")
        return data

    def _report(self, results: list[ChainResult]) -> None:
        bad = [r for r in results if not r.ok]
        total = sum(r.records for r in results)
        waiting = sum(r.unsealed for r in results)
        for r in bad:
            self.stderr.write(f"NG chain={r.chain} first bad record=#{r.bad_seq}: {r.reason}")
        if bad:
            raise CommandError(
                f"監査ログの改ざんを検出しました: {len(bad)} チェーン（最初: {bad[0].chain} #{bad[0].bad_seq}）"
            )
        chains = len([r for r in results if r.records or r.unsealed])
        self.stdout.write(f"OK: {chains} chains, {total} records intact")
        if waiting:
            self.stdout.write(f"封印待ち（未検証）: {waiting} records not sealed yet (lgcloud audit_seal)")
