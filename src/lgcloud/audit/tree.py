"""A chain's Merkle tree as the database holds it: leaf hashes and subtree roots in AuditSeal rows.

The root of the perfect subtree of ``2**level`` leaves starting at leaf index ``start`` is
stored with the leaf that completed it, the one at ``seq = start + 2**level``: its
``leaf_hash`` for level 0, otherwise the ``level``-th hash in its ``nodes``. Callers run
inside a block that can see the chain (``bound()`` or the sealer's scope).
"""

from __future__ import annotations

from collections.abc import Iterable

from . import merkle
from .models import AuditSeal, AuditTreeHead

HEX = 64


class TreeError(RuntimeError):
    """The stored tree lacks a node it must have (a seal row deleted or cut short)."""


def _seq(subtree: merkle.Subtree) -> int:
    start, level = subtree
    return start + (1 << level)


def subtree_hashes(chain: str, subtrees: Iterable[merkle.Subtree]) -> dict[merkle.Subtree, merkle.Hash]:
    wanted = set(subtrees)
    if not wanted:
        return {}
    rows = {
        seq: (leaf, nodes)
        for seq, leaf, nodes in AuditSeal.objects.filter(chain=chain, seq__in={_seq(s) for s in wanted}).values_list(
            "seq", "leaf_hash", "nodes"
        )
    }
    found: dict[merkle.Subtree, merkle.Hash] = {}
    for subtree in wanted:
        row = rows.get(_seq(subtree))
        level = subtree[1]
        text = "" if row is None else row[0] if level == 0 else row[1][(level - 1) * HEX : level * HEX]
        if len(text) != HEX:
            raise TreeError(f"chain {chain}: the node over leaves {subtree[0] + 1}–{_seq(subtree)} is missing")
        found[subtree] = bytes.fromhex(text)
    return found


def range_hashes(chain: str, ranges: list[merkle.Range]) -> list[merkle.Hash]:
    """The root of each leaf range (right-edge subtrees, as proofs use them), in one query."""
    stored = subtree_hashes(chain, merkle.needed_subtrees(ranges))
    return [merkle.range_hash(start, end, lambda s, level: stored[(s, level)]) for start, end in ranges]


def frontier_hashes(chain: str, size: int) -> list[merkle.Hash]:
    subtrees = merkle.frontier(size)
    stored = subtree_hashes(chain, subtrees)
    return [stored[s] for s in subtrees]


def latest_head(chain: str) -> AuditTreeHead | None:
    return AuditTreeHead.objects.filter(chain=chain).order_by("-tree_size").first()


def head_at(chain: str, size: int) -> AuditTreeHead | None:
    return AuditTreeHead.objects.filter(chain=chain, tree_size=size).first()
