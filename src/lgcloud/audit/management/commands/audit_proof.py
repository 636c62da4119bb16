"""``lgcloud audit_proof inclusion --municipality CODE --seq N`` and ``lgcloud audit_proof verify FILE``.

``inclusion`` prints the inclusion proof of the chain's N-th sealed record as JSON (audited);
``verify`` runs the offline verifier (the same as ``python -m lgcloud.audit.proofcheck``).
"""

from __future__ import annotations

import json
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from lgcloud.audit import proofcheck
from lgcloud.audit.proofs import ProofUnavailable, export_inclusion_proof

from ._chain import add_chain_arguments, chain_context


class Command(BaseCommand):
    help = "監査ログの記録の包含証明を JSON で出力し（inclusion）、証明の JSON を検証します（verify）。"

    def add_arguments(self, parser: CommandParser) -> None:
        sub = parser.add_subparsers(dest="what", required=True)
        inclusion = sub.add_parser("inclusion", help="封印済みの記録の包含証明を出力する")
        add_chain_arguments(inclusion)
        inclusion.add_argument("--seq", type=int, required=True, metavar="N", help="チェーンの中の番号（1 から）")
        verify = sub.add_parser("verify", help="証明の JSON を検証する（データベース不要）")
        verify.add_argument("file", help="証明の JSON ファイル")
        verify.add_argument("--key", action="append", default=[], metavar="VKEY", help="信頼する公開鍵（複数可）")

    def handle(self, *args: Any, **options: Any) -> None:
        if options["what"] == "verify":
            argv = [options["file"], *(f"--key={k}" for k in options["key"])]
            status = proofcheck.main(argv, out=self.stdout, err=self.stderr)
            if status:
                raise SystemExit(status)
            return
        if options["seq"] < 1:
            raise CommandError("--seq には 1 以上の数を指定してください。")
        try:
            bundle = export_inclusion_proof(chain_context(options, "audit.proof"), options["seq"])
        except ProofUnavailable as exc:
            raise CommandError(str(exc)) from None
        self.stdout.write(json.dumps(bundle, ensure_ascii=False, indent=2))
