"""Proofs a chain's Merkle tree gives, as JSON bundles that ``lgcloud.audit.proofcheck`` verifies offline.

- a **tree head** (``lgcloud-audit-tree-head/1``): the chain's latest signed tree head, for
  a witness to keep (``lgcloud audit_tree_head``);
- an **inclusion proof** (``lgcloud-audit-inclusion-proof/1``): one entry, its leaf index,
  the RFC 9162 inclusion path and the signed tree head it leads to (a resident's access
  history, ``lgcloud audit_proof inclusion``);
- a **consistency proof** (``lgcloud-audit-consistency-proof/1``): two signed tree heads of
  the chain and the RFC 9162 path showing the older tree is a prefix of the newer one.

Hashes are standard base64, as in the checkpoint. The format is described in docs/audit.md.
Every function reads inside ``bound(ctx)``: a municipality's staff reach their own chain only.
"""

from __future__ import annotations

import base64
from typing import Any

from lgcloud.core.tenancy import TenantContext, bound

from . import merkle
from .actions import record
from .hashing import entry
from .models import PLATFORM_CHAIN, AuditRecord, AuditSeal, AuditTreeHead
from .tree import head_at, latest_head, range_hashes

TREE_HEAD_FORMAT = "lgcloud-audit-tree-head/1"
INCLUSION_FORMAT = "lgcloud-audit-inclusion-proof/1"
CONSISTENCY_FORMAT = "lgcloud-audit-consistency-proof/1"


class ProofUnavailable(LookupError):
    """No signed tree head (or no head of that size, or the entry is not sealed yet); message in Japanese."""


def b64(h: bytes) -> str:
    return base64.b64encode(h).decode()


def _chain(ctx: TenantContext) -> str:
    return ctx.lg_code or PLATFORM_CHAIN


def tree_head_json(head: AuditTreeHead) -> dict[str, Any]:
    return {
        "tree_size": head.tree_size,
        "root_hash": b64(bytes.fromhex(head.root_hash)),
        "signed_at": head.signed_at.isoformat(),
        "checkpoint": head.checkpoint,
        "verifier_key": head.verifier_key,
    }


def _log(head: AuditTreeHead) -> dict[str, str]:
    # The origin the head was signed under (the first line of its checkpoint).
    return {"origin": head.checkpoint.split("\n", 1)[0], "chain": head.chain}


def _head(chain: str, size: int | None) -> AuditTreeHead:
    head = latest_head(chain) if size is None else head_at(chain, size)
    if head is None:
        if size is None:
            raise ProofUnavailable(f"チェーン {chain} にはまだ署名済みのツリーヘッドがありません（封印待ち）。")
        raise ProofUnavailable(f"チェーン {chain} に大きさ {size} の署名済みツリーヘッドはありません。")
    return head


def tree_head(ctx: TenantContext, size: int | None = None) -> dict[str, Any]:
    """The chain's latest signed tree head (or the one of ``size`` leaves), for a witness."""
    with bound(ctx):
        head = _head(_chain(ctx), size)
        return {"format": TREE_HEAD_FORMAT, "log": _log(head), **tree_head_json(head)}


def inclusion_proof(ctx: TenantContext, record_id: int) -> dict[str, Any]:
    """The inclusion proof of one sealed record against the chain's latest signed tree head."""
    chain = _chain(ctx)
    with bound(ctx):
        seal = AuditSeal.objects.filter(chain=chain, record_id=record_id).select_related("record").first()
        if seal is None:
            if AuditRecord.objects.filter(chain=chain, pk=record_id).exists():
                raise ProofUnavailable("この記録はまだ封印されていません（封印待ち）。少し時間をおいてください。")
            raise ProofUnavailable("この記録はありません。")
        head = _head(chain, None)
        if head.tree_size < seal.seq:
            raise ProofUnavailable("この記録はまだ署名済みのツリーヘッドに含まれていません（封印待ち）。")
        index = seal.seq - 1
        path = range_hashes(chain, merkle.inclusion_ranges(index, head.tree_size))
        return {
            "format": INCLUSION_FORMAT,
            "log": _log(head),
            "entry": entry(seal.record, seal.seq),
            "leaf_index": index,
            "tree_size": head.tree_size,
            "inclusion_path": [b64(h) for h in path],
            "tree_head": tree_head_json(head),
        }


def export_inclusion_proof(ctx: TenantContext, seq: int) -> dict[str, Any]:
    """The inclusion proof of the record at ``seq`` (``lgcloud audit_proof inclusion``); the export is audited."""
    chain = _chain(ctx)
    with bound(ctx):
        record_id = AuditSeal.objects.filter(chain=chain, seq=seq).values_list("record_id", flat=True).first()
        if record_id is None:
            raise ProofUnavailable(f"チェーン {chain} に {seq} 番目の封印済みの記録はありません。")
        bundle = inclusion_proof(ctx, record_id)
        record(ctx, "audit.proof.exported", subject_type="audit_entry", subject_id=seq, fields=["inclusion_proof"])
    return bundle


def consistency_proof(ctx: TenantContext, first: int, second: int | None = None) -> dict[str, Any]:
    """Two signed tree heads of the chain (``second``: the latest) and the proof that the first is a prefix."""
    chain = _chain(ctx)
    with bound(ctx):
        new = _head(chain, second)
        old = _head(chain, first)
        if old.tree_size > new.tree_size:
            raise ProofUnavailable(f"大きさ {first} は {new.tree_size} より大きいので、整合性の証明は作れません。")
        path = range_hashes(chain, merkle.consistency_ranges(old.tree_size, new.tree_size))
        return {
            "format": CONSISTENCY_FORMAT,
            "log": _log(new),
            "first": tree_head_json(old),
            "second": tree_head_json(new),
            "consistency_path": [b64(h) for h in path],
        }


def seals_of(ctx: TenantContext, record_ids: list[int]) -> dict[int, int]:
    """record id -> seq, for the records among ``record_ids`` that a signed tree head covers."""
    chain = _chain(ctx)
    with bound(ctx):
        head = latest_head(chain)
        if head is None or not record_ids:
            return {}
        rows = AuditSeal.objects.filter(chain=chain, record_id__in=record_ids, seq__lte=head.tree_size)
        return dict(rows.values_list("record_id", "seq"))
