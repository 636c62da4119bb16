"""``lgcloud audit_tree_head --municipality CODE [--size N] [--from-size M]``: a signed tree head, as JSON.

Without ``--from-size``: the chain's latest signed tree head (or the one of ``--size``
leaves), for a witness to keep. With ``--from-size M``: a consistency proof from the head
of M leaves (one the witness already holds) to the latest (or ``--size``) head. Either
output is verified offline by ``python -m lgcloud.audit.proofcheck``.
"""

from __future__ import annotations

import json
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from lgcloud.audit.proofs import ProofUnavailable, consistency_proof, tree_head

from ._chain import add_chain_arguments, chain_context


class Command(BaseCommand):
    help = (
        "団体の監査ログの署名済みツリーヘッド（立会人向け）と、"
        "2つのツリーヘッドの間の整合性の証明を JSON で出力します。"
    )

    def add_arguments(self, parser: CommandParser) -> None:
        add_chain_arguments(parser)
        parser.add_argument("--size", type=int, metavar="N", help="この大きさのツリーヘッド（既定: 最新）")
        parser.add_argument(
            "--from-size", type=int, metavar="M", help="大きさ M のツリーヘッドからの整合性の証明を出力する"
        )

    def handle(self, *args: Any, **options: Any) -> None:
        ctx = chain_context(options, "audit.tree_head")
        for name in ("size", "from_size"):
            if options[name] is not None and options[name] < 1:
                raise CommandError(f"--{name.replace('_', '-')} には 1 以上の数を指定してください。")
        try:
            if options["from_size"] is not None:
                out = consistency_proof(ctx, options["from_size"], options["size"])
            else:
                out = tree_head(ctx, options["size"])
        except ProofUnavailable as exc:
            raise CommandError(str(exc)) from None
        self.stdout.write(json.dumps(out, ensure_ascii=False, indent=2))
