"""RFC 9162 Merkle trees (audit.merkle): known vectors, and every proof of every small tree.

The vectors are Certificate Transparency's published test data (RFC 6962 / RFC 9162 use the
same hashing): the eight leaves "", 00, 10, 2021, 3031, 40414243, 5051525354555657,
606162636465666768696a6b6c6d6e6f and their roots, inclusion and consistency proofs, as in
google/certificate-transparency's merkle_tree_test.cc and transparency-dev/merkle's
testonly/constants.go. RFC 9162 §2.1.1 (hashes), §2.1.3 (inclusion), §2.1.4 (consistency):
https://www.rfc-editor.org/rfc/rfc9162#section-2.1
"""

from __future__ import annotations

import hashlib

import pytest

from lgcloud.audit import merkle

LEAVES = [bytes.fromhex(h) for h in ("", "00", "10", "2021", "3031", "40414243", "5051525354555657")] + [
    bytes.fromhex("606162636465666768696a6b6c6d6e6f")
]
ROOTS = [
    "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",  # the empty tree: SHA-256("")
    "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
    "fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125",
    "aeb6bcfe274b70a14fb067a5e5578264db0fa9b51af5e0ba159158f329e06e77",
    "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
    "4e3bbb1f7b478dcfe71fb631631519a3bca12c9aefca1612bfce4c13a86264d4",
    "76e67dadbcdf1e10e1b74ddc608abd2f98dfb16fbce75277b5232a127f2087ef",
    "ddb89be403809e325750d3d263cd78929c2942b7942a34b77e122c9594a74c8c",
    "5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328",
]
INCLUSION = {  # (leaf index, tree size) -> path
    (0, 8): [
        "96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7",
        "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
        "6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4",
    ],
    (5, 8): [
        "bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b",
        "ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0",
        "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
    ],
}
CONSISTENCY = {  # (first size, second size) -> proof
    (1, 1): [],
    (1, 8): [
        "96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7",
        "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
        "6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4",
    ],
    (6, 8): [
        "0ebc5d3437fbe2db158b9f126a1d118e308181031d0a949f8dededebc558ef6a",
        "ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0",
        "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
    ],
    (2, 5): [
        "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
        "bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b",
    ],
}
N = 40  # every tree of 1..N leaves, every leaf and every pair of sizes


def _tree(n: int) -> list[bytes]:
    return [merkle.leaf_hash(f"entry {i}".encode()) for i in range(n)]


def _subtree(leaves: list[bytes]):  # type: ignore[no-untyped-def]
    return lambda start, level: merkle.root_of(leaves[start : start + (1 << level)])


def _inclusion(leaves: list[bytes], index: int) -> list[bytes]:
    ranges = merkle.inclusion_ranges(index, len(leaves))
    return [merkle.range_hash(s, e, _subtree(leaves)) for s, e in ranges]


def _consistency(leaves: list[bytes], first: int) -> list[bytes]:
    ranges = merkle.consistency_ranges(first, len(leaves))
    return [merkle.range_hash(s, e, _subtree(leaves)) for s, e in ranges]


def _flip(h: bytes) -> bytes:
    return bytes([h[0] ^ 1]) + h[1:]


def test_the_empty_tree_is_the_hash_of_nothing() -> None:
    assert merkle.EMPTY_ROOT.hex() == ROOTS[0] == hashlib.sha256(b"").hexdigest()
    assert merkle.root_of([]) == merkle.EMPTY_ROOT
    assert merkle.fold([]) == merkle.EMPTY_ROOT
    assert merkle.Appender(0, []).root() == merkle.EMPTY_ROOT


def test_leaf_and_node_hashes_are_domain_separated() -> None:
    assert merkle.leaf_hash(b"").hex() == ROOTS[1]
    left, right = merkle.leaf_hash(b""), merkle.leaf_hash(b"\x00")
    assert merkle.node_hash(left, right) == hashlib.sha256(b"\x01" + left + right).digest()
    assert merkle.leaf_hash(left + right) != merkle.node_hash(left, right)


@pytest.mark.parametrize("size", range(9))
def test_roots_match_the_published_vectors(size: int) -> None:
    leaves = [merkle.leaf_hash(x) for x in LEAVES[:size]]
    assert merkle.root_of(leaves).hex() == ROOTS[size]
    tree = merkle.Appender(0, [])
    for leaf in leaves:
        tree.append(leaf)
    assert tree.root().hex() == ROOTS[size]


@pytest.mark.parametrize(("index", "size"), sorted(INCLUSION))
def test_inclusion_proofs_match_the_published_vectors(index: int, size: int) -> None:
    leaves = [merkle.leaf_hash(x) for x in LEAVES[:size]]
    path = _inclusion(leaves, index)
    assert [h.hex() for h in path] == INCLUSION[(index, size)]
    assert merkle.verify_inclusion(index, size, leaves[index], path, bytes.fromhex(ROOTS[size]))


@pytest.mark.parametrize(("first", "second"), sorted(CONSISTENCY))
def test_consistency_proofs_match_the_published_vectors(first: int, second: int) -> None:
    leaves = [merkle.leaf_hash(x) for x in LEAVES[:second]]
    proof = _consistency(leaves, first)
    assert [h.hex() for h in proof] == CONSISTENCY[(first, second)]
    assert merkle.verify_consistency(first, second, bytes.fromhex(ROOTS[first]), bytes.fromhex(ROOTS[second]), proof)


def test_appending_reports_exactly_the_perfect_subtrees_each_leaf_completes() -> None:
    leaves = _tree(N)
    tree = merkle.Appender(0, [])
    for i, leaf in enumerate(leaves):
        completed = tree.append(leaf)
        # leaf i completes one subtree per trailing 1-bit of i, ending at leaf i
        expected = [
            merkle.root_of(leaves[i + 1 - (1 << level) : i + 1])
            for level in range(1, 64)
            if (i + 1) % (1 << level) == 0
        ]
        assert completed == expected
        assert tree.root() == merkle.root_of(leaves[: i + 1])
        # A tree resumed from its frontier goes on the same way.
        size = i + 1
        frontier = [merkle.root_of(leaves[s : s + (1 << lv)]) for s, lv in merkle.frontier(size)]
        assert merkle.fold(frontier) == tree.root()
        resumed = merkle.Appender(size, frontier)
        if size < N:
            resumed.append(leaves[size])
            assert resumed.root() == merkle.root_of(leaves[: size + 1])


def test_an_appender_refuses_a_frontier_of_the_wrong_shape() -> None:
    with pytest.raises(merkle.ProofError):
        merkle.Appender(3, [merkle.EMPTY_ROOT])


def test_every_inclusion_proof_of_every_small_tree_verifies_and_any_change_fails() -> None:
    checked = 0
    for size in range(1, N + 1):
        leaves = _tree(size)
        root = merkle.root_of(leaves)
        for index in range(size):
            path = _inclusion(leaves, index)
            assert merkle.verify_inclusion(index, size, leaves[index], path, root), (index, size)
            assert not merkle.verify_inclusion(index, size, _flip(leaves[index]), path, root)
            assert not merkle.verify_inclusion(index, size, leaves[index], path, _flip(root))
            for k in range(len(path)):
                tampered = [*path[:k], _flip(path[k]), *path[k + 1 :]]
                assert not merkle.verify_inclusion(index, size, leaves[index], tampered, root)
            if path:
                assert not merkle.verify_inclusion(index, size, leaves[index], path[:-1], root)
            assert not merkle.verify_inclusion(index, size, leaves[index], [*path, root], root)
            if size > 1:  # the same leaf hash claimed at another place
                other = (index + 1) % size
                assert not merkle.verify_inclusion(other, size, leaves[index], path, root)
            checked += 1
        assert not merkle.verify_inclusion(size, size, leaves[0], [], root)
    assert checked == N * (N + 1) // 2


def test_every_consistency_proof_of_every_small_tree_verifies_and_any_change_fails() -> None:
    leaves = _tree(N)
    roots = [merkle.root_of(leaves[:n]) for n in range(N + 1)]
    for second in range(1, N + 1):
        for first in range(1, second + 1):
            proof = _consistency(leaves[:second], first)
            assert merkle.verify_consistency(first, second, roots[first], roots[second], proof), (first, second)
            assert not merkle.verify_consistency(first, second, _flip(roots[first]), roots[second], proof)
            assert not merkle.verify_consistency(first, second, roots[first], _flip(roots[second]), proof)
            for k in range(len(proof)):
                tampered = [*proof[:k], _flip(proof[k]), *proof[k + 1 :]]
                assert not merkle.verify_consistency(first, second, roots[first], roots[second], tampered)
            if proof:
                assert not merkle.verify_consistency(first, second, roots[first], roots[second], proof[:-1])
            if first < second:
                # A rewritten history: the old tree with its last leaf changed is not a prefix.
                forked = [*leaves[: first - 1], merkle.leaf_hash(b"forged"), *leaves[first:second]]
                assert not merkle.verify_consistency(
                    first, second, roots[first], merkle.root_of(forked), _consistency(forked, first)
                )
    assert not merkle.verify_consistency(0, 3, merkle.EMPTY_ROOT, roots[3], [])
    assert not merkle.verify_consistency(3, 2, roots[3], roots[2], [])


def test_proof_ranges_refuse_positions_outside_the_tree() -> None:
    with pytest.raises(merkle.ProofError):
        merkle.inclusion_ranges(5, 5)
    with pytest.raises(merkle.ProofError):
        merkle.consistency_ranges(0, 5)
    with pytest.raises(merkle.ProofError):
        merkle.consistency_ranges(6, 5)
