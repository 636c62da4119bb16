"""Verification of the audit log's chains (``lgcloud audit_verify``).

For each chain it rebuilds the Merkle tree from the records themselves, in seal order, and
checks, naming the first sealed record that does not fit:

- the seals number the records 1, 2, 3, … with no gap (a deleted record, or a seal cut out);
- each record's entry hashes to its seal's leaf hash (an edited record, or records moved
  between places: the leaf covers ``seq``);
- the subtree roots stored for proofs are the ones the records give;
- every signed tree head: its signature by a trusted key, its origin, and the root the
  records give at its size (an edit whose stored hashes were recomputed to match, a
  record inserted into the sealed sequence, a reordering);
- the latest tree head's size is the number of sealed records (a cut-off tail).

A tree head received from elsewhere (a witness's copy) can be checked too: the log must
still give its root at its size, which catches a tail cut off together with its heads.
Records not sealed yet are counted, not judged: they have no place to check.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured

from lgcloud.core.tenancy import TenantContext, bound

from . import merkle
from .checkpoint import Checkpoint, CheckpointError, VerifierKey, open_note, parse_checkpoint, parse_verifier_key
from .hashing import entry, entry_leaf
from .models import PLATFORM_CHAIN, AuditRecord, AuditSeal, AuditTreeHead

HEX = 64


@dataclass(frozen=True)
class ChainResult:
    chain: str
    records: int  # sealed records walked
    ok: bool
    bad_seq: int | None = None
    reason: str = ""
    unsealed: int = 0
    heads: int = 0


class _Bad(Exception):
    def __init__(self, seq: int, reason: str) -> None:
        super().__init__(reason)
        self.seq = seq
        self.reason = reason


def trusted_keys() -> list[VerifierKey]:
    """The keys whose tree heads are trusted: LGCLOUD_AUDIT_VERIFIER_KEYS, and the signing key if set here."""
    keys = [parse_verifier_key(k) for k in settings.AUDIT_VERIFIER_KEYS]
    try:
        from .keys import signer

        keys.append(signer().verifier)
    except ImproperlyConfigured:
        pass
    if not keys:
        raise ImproperlyConfigured(
            "監査ログの検証には、署名鍵の公開鍵 LGCLOUD_AUDIT_VERIFIER_KEYS"
            "（または LGCLOUD_AUDIT_SIGNING_KEY）が必要です。"
        )
    return keys


def _open(head_checkpoint: str, key_text: str, trusted: Sequence[VerifierKey]) -> Checkpoint:
    try:
        key = parse_verifier_key(key_text)
    except CheckpointError as exc:
        raise CheckpointError(f"unreadable verifier key ({exc})") from None
    if key not in trusted:
        raise CheckpointError(f"signed by an untrusted key {key.encode()}")
    return parse_checkpoint(open_note(head_checkpoint, key))


def verify_chain(
    lg_code: str | None, *, trusted: Sequence[VerifierKey] | None = None, witnessed: Sequence[dict[str, object]] = ()
) -> ChainResult:
    """Walk one chain and report the first sealed record that does not fit (see the module docstring)."""
    chain = lg_code or PLATFORM_CHAIN
    keys = list(trusted) if trusted is not None else trusted_keys()
    ctx = TenantContext.system(lg_code, purpose="audit.verify")
    with bound(ctx):
        heads = list(AuditTreeHead.objects.filter(chain=chain).order_by("tree_size"))
        unsealed = AuditRecord.objects.filter(chain=chain).exclude(seals__chain=chain).count()
        count = 0
        try:
            count = _walk(chain, heads, keys, witnessed)
        except _Bad as bad:
            return ChainResult(chain, bad.seq - 1, False, bad.seq, bad.reason, unsealed, len(heads))
    return ChainResult(chain, count, True, unsealed=unsealed, heads=len(heads))


def _walk(
    chain: str, heads: list[AuditTreeHead], keys: Sequence[VerifierKey], witnessed: Sequence[dict[str, object]]
) -> int:
    # Every root to check, by tree size: the stored heads' and the witnessed ones'.
    roots: dict[int, list[tuple[bytes, str]]] = {}
    for head in heads:
        try:
            checkpoint = _open(head.checkpoint, head.verifier_key, keys)
        except CheckpointError as exc:
            raise _Bad(
                head.tree_size, f"the tree head of size {head.tree_size} is not validly signed ({exc})"
            ) from None
        if (checkpoint.size, checkpoint.root.hex()) != (
            head.tree_size,
            head.root_hash,
        ) or not checkpoint.origin.endswith(f"/{chain}"):
            raise _Bad(head.tree_size, f"the tree head of size {head.tree_size} differs from its signed checkpoint")
        roots.setdefault(head.tree_size, []).append((checkpoint.root, "signed tree head"))
    for item in witnessed:
        try:
            checkpoint = _open(str(item.get("checkpoint", "")), str(item.get("verifier_key", "")), keys)
        except CheckpointError as exc:
            raise _Bad(1, f"the witnessed tree head cannot be read ({exc})") from None
        if not checkpoint.origin.endswith(f"/{chain}"):
            raise _Bad(1, f"the witnessed tree head belongs to another log ({checkpoint.origin})")
        roots.setdefault(checkpoint.size, []).append((checkpoint.root, "witnessed tree head"))
    last_size = heads[-1].tree_size if heads else 0
    tree = merkle.Appender(0, [])
    checked = 0  # the size up to which every root has matched
    seals = AuditSeal.objects.filter(chain=chain).select_related("record").order_by("seq").iterator(chunk_size=2000)
    for seal in seals:
        expected = tree.size + 1
        if seal.seq != expected:
            raise _Bad(expected, f"record #{expected} is missing (next is #{seal.seq})")
        # select_related joins the record: a seal whose record was deleted is not walked at all,
        # so its place shows as a gap above.
        leaf = merkle.leaf_hash(entry_leaf(entry(seal.record, expected)))
        if leaf.hex() != seal.leaf_hash:
            raise _Bad(expected, "contents do not match the record's leaf hash (edited, moved or reordered)")
        completed = tree.append(leaf)
        if "".join(h.hex() for h in completed) != seal.nodes:
            raise _Bad(expected, "the subtree roots stored with this record do not match the records")
        for root, what in roots.get(tree.size, ()):
            if tree.root() != root:
                first = checked + 1
                raise _Bad(
                    first,
                    f"records #{first}–#{tree.size} do not give the root of the {what} of size {tree.size}"
                    " (edited, inserted or reordered)",
                )
        if tree.size in roots:
            checked = tree.size
    claimed = max([last_size, *roots])
    if claimed > tree.size:
        raise _Bad(tree.size + 1, f"chain head says #{claimed} but the log ends at #{tree.size}")
    if tree.size > last_size:
        raise _Bad(
            last_size + 1,
            f"records #{last_size + 1}–#{tree.size} are sealed but no signed tree head covers them"
            " (a head was removed)",
        )
    return tree.size


def verify_all(lg_codes: list[str]) -> Iterator[ChainResult]:
    """The platform chain, then each municipality's chain."""
    keys = trusted_keys()
    yield verify_chain(None, trusted=keys)
    for lg_code in lg_codes:
        yield verify_chain(lg_code, trusted=keys)
