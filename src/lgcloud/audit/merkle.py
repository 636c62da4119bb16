"""Merkle trees as Certificate Transparency builds them (RFC 9162 §2.1), with no database.

Shared by the sealer, the proof builders and the offline verifier (``proofcheck``), so it
imports nothing but the standard library.

- leaf hash ``SHA-256(0x00 || leaf)``, node hash ``SHA-256(0x01 || left || right)``;
- the root of ``n`` leaves splits at ``k``, the largest power of two below ``n`` (§2.1.1);
  the empty tree's root is ``SHA-256("")``;
- inclusion proofs (PATH, §2.1.3) and consistency proofs (PROOF/SUBPROOF, §2.1.4) are built
  from *ranges* of leaves; each range is the root of a right-edge subtree, which
  :func:`range_hash` computes from the perfect subtrees it consists of, so a log stores
  only the roots of perfect subtrees (the sealer keeps them with the leaf that completes them);
- verification follows the iterative algorithms of §2.1.3.2 and §2.1.4.2 step by step.

Leaf indexes are 0-based here; the audit log's ``seq`` is index + 1.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterable, Sequence

Hash = bytes
HASH_SIZE = 32
EMPTY_ROOT: Hash = hashlib.sha256(b"").digest()

# (start, level): the perfect subtree of 2**level leaves from leaf index ``start`` (start is a
# multiple of 2**level).
Subtree = tuple[int, int]
Range = tuple[int, int]  # leaves [start, end)


class ProofError(ValueError):
    """A proof or tree head that cannot be right (message in English; callers translate)."""


def leaf_hash(leaf: bytes) -> Hash:
    return hashlib.sha256(b"\x00" + leaf).digest()


def node_hash(left: Hash, right: Hash) -> Hash:
    return hashlib.sha256(b"\x01" + left + right).digest()


def _split(n: int) -> int:
    """The largest power of two smaller than ``n`` (n >= 2)."""
    return 1 << ((n - 1).bit_length() - 1)


def root_of(leaf_hashes: Sequence[Hash]) -> Hash:
    """MTH(D[n]) straight from the definition (§2.1.1), over leaf hashes: the reference the rest is tested by."""
    n = len(leaf_hashes)
    if n == 0:
        return EMPTY_ROOT
    if n == 1:
        return leaf_hashes[0]
    k = _split(n)
    return node_hash(root_of(leaf_hashes[:k]), root_of(leaf_hashes[k:]))


# --- appending: the frontier of perfect subtrees ------------------------------------------------


def frontier(size: int) -> list[Subtree]:
    """The perfect subtrees a tree of ``size`` leaves consists of, largest (leftmost) first."""
    found: list[Subtree] = []
    start = 0
    for level in range(size.bit_length() - 1, -1, -1):
        if size & (1 << level):
            found.append((start, level))
            start += 1 << level
    return found


def fold(hashes: Sequence[Hash]) -> Hash:
    """The root over perfect-subtree roots given left to right, each larger than the next (a frontier)."""
    if not hashes:
        return EMPTY_ROOT
    acc = hashes[-1]
    for h in reversed(hashes[:-1]):
        acc = node_hash(h, acc)
    return acc


class Appender:
    """Adds leaves to a tree of known frontier; reports the perfect subtrees each leaf completes.

    ``stack`` holds (level, hash) of the frontier, largest first. Appending leaf ``i``
    completes one perfect subtree per trailing 1-bit of ``i`` (levels 1, 2, …), each the
    node of the two equal subtrees on top of the stack.
    """

    def __init__(self, size: int, frontier_hashes: Sequence[Hash]) -> None:
        subtrees = frontier(size)
        if len(subtrees) != len(frontier_hashes):
            raise ProofError(f"a tree of {size} leaves has {len(subtrees)} frontier nodes, got {len(frontier_hashes)}")
        self.size = size
        self.stack: list[tuple[int, Hash]] = [
            (level, h) for (_, level), h in zip(subtrees, frontier_hashes, strict=True)
        ]

    def append(self, leaf: Hash) -> list[Hash]:
        """Add one leaf hash; returns the roots of the subtrees it completes, level 1 upwards."""
        completed: list[Hash] = []
        level, acc = 0, leaf
        while self.stack and self.stack[-1][0] == level:
            _, left = self.stack.pop()
            acc = node_hash(left, acc)
            level += 1
            completed.append(acc)
        self.stack.append((level, acc))
        self.size += 1
        return completed

    def root(self) -> Hash:
        return fold([h for _, h in self.stack])


# --- proofs as ranges (what to fetch), then hashes -----------------------------------------------


def inclusion_ranges(index: int, size: int) -> list[Range]:
    """PATH(m, D[n]) (§2.1.3.1) as the leaf ranges whose roots make up the path, bottom first."""
    if not 0 <= index < size:
        raise ProofError(f"leaf index {index} is not in a tree of {size} leaves")
    path: list[Range] = []
    start, end = 0, size
    while end - start > 1:
        k = _split(end - start)
        if index < start + k:
            path.append((start + k, end))
            end = start + k
        else:
            path.append((start, start + k))
            start = start + k
    path.reverse()
    return path


def consistency_ranges(first: int, second: int) -> list[Range]:
    """PROOF(m, D[n]) = SUBPROOF(m, D[n], true) (§2.1.4.1) as leaf ranges, in proof order."""
    if not 0 < first <= second:
        raise ProofError(f"no consistency proof from {first} to {second} leaves")

    def sub(m: int, start: int, end: int, whole: bool) -> list[Range]:
        n = end - start
        if m == n:
            return [] if whole else [(start, end)]
        k = _split(n)
        if m <= k:
            return [*sub(m, start, start + k, whole), (start + k, end)]
        return [*sub(m - k, start + k, end, False), (start, start + k)]

    return sub(first, 0, second, True)


def subtrees_of(start: int, end: int) -> list[Subtree]:
    """The perfect subtrees that make up the leaf range [start, end), left to right.

    For the ranges a proof or a tree uses (a right edge of the tree: ``start`` aligned to
    the size rounded up to a power of two), folding their roots gives MTH(D[start:end]).
    """
    found: list[Subtree] = []
    while start < end:
        level = (end - start).bit_length() - 1
        while start % (1 << level):
            level -= 1
        found.append((start, level))
        start += 1 << level
    return found


def range_hash(start: int, end: int, subtree: Callable[[int, int], Hash]) -> Hash:
    return fold([subtree(s, level) for s, level in subtrees_of(start, end)])


def needed_subtrees(ranges: Iterable[Range]) -> set[Subtree]:
    return {s for start, end in ranges for s in subtrees_of(start, end)}


# --- verification (§2.1.3.2, §2.1.4.2) ----------------------------------------------------------


def verify_inclusion(index: int, size: int, leaf: Hash, path: Sequence[Hash], root: Hash) -> bool:
    """True when ``path`` proves ``leaf`` at ``index`` in the tree of ``size`` leaves with ``root``."""
    if not 0 <= index < size:
        return False
    fn, sn = index, size - 1
    r = leaf
    for p in path:
        if sn == 0:
            return False
        if fn & 1 or fn == sn:
            r = node_hash(p, r)
            if not fn & 1:
                while fn and not fn & 1:
                    fn >>= 1
                    sn >>= 1
        else:
            r = node_hash(r, p)
        fn >>= 1
        sn >>= 1
    return sn == 0 and r == root


def verify_consistency(first: int, second: int, first_root: Hash, second_root: Hash, proof: Sequence[Hash]) -> bool:
    """True when ``proof`` shows the tree of ``first`` leaves is a prefix of the tree of ``second`` leaves.

    Equal sizes need an empty proof and equal roots (RFC 9162 leaves that case to the client).
    """
    if not 0 < first <= second:
        return False
    if first == second:
        return not proof and first_root == second_root
    if not proof:
        return False
    path = list(proof)
    if first & (first - 1) == 0:  # an exact power of two: the old root is itself a node of the new tree
        path.insert(0, first_root)
    fn, sn = first - 1, second - 1
    while fn & 1:
        fn >>= 1
        sn >>= 1
    fr = sr = path[0]
    for c in path[1:]:
        if sn == 0:
            return False
        if fn & 1 or fn == sn:
            fr = node_hash(c, fr)
            sr = node_hash(c, sr)
            if not fn & 1:
                while fn and not fn & 1:
                    fn >>= 1
                    sn >>= 1
        else:
            sr = node_hash(sr, c)
        fn >>= 1
        sn >>= 1
    return fr == first_root and sr == second_root and sn == 0
