"""``lgcloud audit_seal [--once] [--interval SECONDS]``: the sealer worker (one pass, or a loop)."""

from __future__ import annotations

import time
from typing import Any

from django.core.exceptions import ImproperlyConfigured
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import DatabaseError, connections

from lgcloud.audit.keys import signer
from lgcloud.audit.sealer import PASS_LIMIT, Sealer, SealPass


class Command(BaseCommand):
    help = (
        "監査ログの記録を団体ごとのマークル木に封印し、署名済みツリーヘッドを残します。"
        "既定では約1秒ごとに繰り返します（--once で封印待ちがなくなるまで封印して終了）。"
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--once", action="store_true", help="封印待ちがなくなるまで封印して終了する")
        parser.add_argument("--interval", type=float, default=1.0, help="巡回の間隔（秒、既定 1）")
        parser.add_argument("--limit", type=int, default=PASS_LIMIT, help="1回の巡回で封印する記録の上限")

    def handle(self, *args: Any, **options: Any) -> None:
        if options["interval"] <= 0 or options["limit"] <= 0:
            raise CommandError("--interval と --limit には正の数を指定してください。")
        try:
            signer()  # a missing or malformed key stops the worker at start, not at the first record
        except ImproperlyConfigured as exc:
            raise CommandError(str(exc)) from None
        sealer = Sealer(options["limit"])
        failed = False
        while True:
            try:
                done = sealer.run_once()
            except DatabaseError as exc:
                if options["once"]:
                    raise CommandError(f"データベースのエラーで封印できませんでした: {type(exc).__name__}") from exc
                # A failover or a dropped connection: reconnect on the next pass; nothing was half-written.
                self.stderr.write(f"データベースのエラー（{type(exc).__name__}）。次の巡回で再試行します。")
                connections.close_all()
                time.sleep(options["interval"])
                continue
            self._report(done)
            failed |= bool(done.refused)
            if done.full and not done.refused:
                continue  # more is waiting: no pause
            if options["once"]:
                break
            time.sleep(options["interval"])
        if failed:
            raise CommandError("封印できないチェーンがあります（lgcloud audit_verify で確認してください）。")

    def _report(self, done: SealPass) -> None:
        if done.total:
            chains = ", ".join(f"{chain}: {n}" for chain, n in sorted(done.sealed.items()))
            self.stdout.write(f"封印 {done.total} 件（{chains}）")
        for chain, reason in sorted(done.refused.items()):
            self.stderr.write(f"封印できません chain={chain}: {reason}")
        if done.busy:
            self.stderr.write("別の封印処理が動いています。この巡回は見送りました。")
