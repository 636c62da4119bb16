"""Proof bundles the app produces (inclusion, consistency, tree head) and the offline verifier that checks them.

The verifier is run as a resident or a witness would: ``python -m lgcloud.audit.proofcheck FILE``
in a process of its own, with no Django settings and no database.
"""

from __future__ import annotations

import copy
import json
import os
import subprocess
import sys
from io import StringIO
from pathlib import Path
from typing import Any

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from django.core.management import CommandError, call_command

from lgcloud.audit import merkle, proofcheck
from lgcloud.audit.actions import record
from lgcloud.audit.checkpoint import Checkpoint, Signer, parse_verifier_key
from lgcloud.audit.keys import origin, signer
from lgcloud.audit.proofs import ProofUnavailable, b64, inclusion_proof
from lgcloud.core.tenancy import TenantContext, bound
from tests.conftest import seal_audit

pytestmark = pytest.mark.django_db

A, B = "131016", "131041"


def _append(lg_code: str | None, n: int, action: str = "registry.person.viewed") -> list[int]:
    ctx = TenantContext.system(lg_code, purpose="test")
    with bound(ctx):
        return [record(ctx, action, subject_type="person", subject_id=f"{i:010d}").pk for i in range(n)]


def _cli(*args: str) -> dict[str, Any]:
    out = StringIO()
    call_command(*args, stdout=out)
    return json.loads(out.getvalue())  # type: ignore[no-any-return]


def _offline(path: Path, *extra: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("DJANGO_", "LGCLOUD_"))}
    return subprocess.run(
        [sys.executable, "-m", "lgcloud.audit.proofcheck", str(path), *extra],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def test_an_inclusion_proof_from_the_app_verifies_offline(tokyo: list[str], tmp_path: Path) -> None:
    _append(A, 6)
    seal_audit()
    _append(A, 4)
    seal_audit()
    bundle = _cli("audit_proof", "inclusion", "--municipality", A, "--seq", "3")
    assert bundle["format"] == "lgcloud-audit-inclusion-proof/1"
    assert bundle["leaf_index"] == 2 and bundle["tree_size"] == 10 and bundle["entry"]["seq"] == 3
    assert bundle["log"] == {"origin": origin(A), "chain": A}
    path = tmp_path / "proof.json"
    path.write_text(json.dumps(bundle, ensure_ascii=False), encoding="utf-8")
    done = _offline(path)
    assert done.returncode == 0, done.stdout + done.stderr
    lines = done.stdout.splitlines()
    assert lines[0].startswith("OK: ") and "3 番目" in lines[0] and "大きさ 10" in lines[0]
    assert lines[1].startswith("OK: entry #3 of log 131016")
    assert "注意" in done.stdout  # no key pinned: told to compare it with the published one
    pinned = _offline(path, "--key", signer().verifier.encode())
    assert pinned.returncode == 0 and "注意" not in pinned.stdout


def test_the_verifier_needs_neither_django_nor_a_database() -> None:
    code = "import sys, lgcloud.audit.proofcheck; print(sorted(m for m in sys.modules if m.split('.')[0] == 'django'))"
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60, check=True)
    assert done.stdout.strip() == "[]"


def _bundle(tokyo: list[str]) -> dict[str, Any]:
    ids = _append(A, 5)
    seal_audit()
    return inclusion_proof(TenantContext.system(A, purpose="test"), ids[3])


@pytest.mark.parametrize(
    ("change", "reason"),
    [
        (lambda b: b["entry"].update(action="registry.person.moved_in"), "not in the signed tree"),
        (lambda b: b["entry"].update(subject_id="0000000001"), "not in the signed tree"),
        (lambda b: b["entry"].update(occurred_at="2020-01-01T00:00:00.000000+00:00"), "not in the signed tree"),
        (lambda b: b["entry"].pop("actor"), "keys are not the expected"),
        (lambda b: b.update(leaf_index=2), "does not match the position"),
        (lambda b: b["entry"].update(seq=1), "does not match the position"),
        (lambda b: b["inclusion_path"].reverse(), "not in the signed tree"),
        (lambda b: b["inclusion_path"].pop(), "not in the signed tree"),
        (lambda b: b["inclusion_path"].__setitem__(0, b64(b"\x00" * 32)), "not in the signed tree"),
        (lambda b: b["inclusion_path"].__setitem__(0, "not base64"), "not 32 bytes"),
        (lambda b: b["tree_head"].update(root_hash=b64(b"\x01" * 32)), "differs from what was signed"),
        (lambda b: b["tree_head"].update(tree_size=4), "differs from what was signed"),
        (lambda b: b.update(tree_size=6), "differs from the tree head"),
        (
            lambda b: b["tree_head"].update(checkpoint=b["tree_head"]["checkpoint"].replace("\n5\n", "\n6\n", 1)),
            "does not verify",
        ),
        (lambda b: b["log"].update(chain=B), "belongs to another log"),
        (lambda b: b.update(format="something/1"), "unknown format"),
    ],
)
def test_any_change_to_an_inclusion_proof_is_ng(tokyo: list[str], change: Any, reason: str) -> None:
    bundle = _bundle(tokyo)
    assert proofcheck.check(bundle).ok
    tampered = copy.deepcopy(bundle)
    change(tampered)
    verdict = proofcheck.check(tampered)
    assert not verdict.ok
    assert reason in verdict.en
    assert verdict.lines()[0].startswith("NG: ") and verdict.lines()[1].startswith("NG: ")


def test_a_proof_signed_by_a_key_other_than_the_pinned_one_is_ng(tokyo: list[str]) -> None:
    bundle = _bundle(tokyo)
    other = Signer("elsewhere.example/audit", Ed25519PrivateKey.generate()).verifier
    verdict = proofcheck.check(bundle, [other])
    assert not verdict.ok and "pinned" in verdict.en
    assert proofcheck.check(bundle, [parse_verifier_key(bundle["tree_head"]["verifier_key"])]).ok


def test_the_command_line_reports_ng_and_unreadable_files(tokyo: list[str], tmp_path: Path) -> None:
    bundle = _bundle(tokyo)
    bundle["entry"]["fields"] = ["individual_number"]
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps(bundle), encoding="utf-8")
    done = _offline(bad)
    assert done.returncode == 1
    assert done.stdout.startswith("NG: この記録は、署名されたツリーに含まれていません")
    (tmp_path / "broken.json").write_text("{not json", encoding="utf-8")
    assert _offline(tmp_path / "broken.json").returncode == 2
    out, err = StringIO(), StringIO()
    with pytest.raises(SystemExit) as exit_status:
        call_command("audit_proof", "verify", str(bad), stdout=out, stderr=err)
    assert exit_status.value.code == 1 and out.getvalue().startswith("NG: ")


def test_tree_heads_and_consistency_proofs_for_a_witness(tokyo: list[str], tmp_path: Path) -> None:
    _append(A, 3)
    seal_audit()
    old = _cli("audit_tree_head", "--municipality", A)
    assert old["format"] == "lgcloud-audit-tree-head/1" and old["tree_size"] == 3
    assert proofcheck.check(old).ok
    _append(A, 6)
    seal_audit()
    _append(A, 1)
    seal_audit()
    latest = _cli("audit_tree_head", "--municipality", A)
    assert latest["tree_size"] == 10
    proof = _cli("audit_tree_head", "--municipality", A, "--from-size", "3")
    assert proof["format"] == "lgcloud-audit-consistency-proof/1"
    assert proof["first"]["checkpoint"] == old["checkpoint"] and proof["second"]["tree_size"] == 10
    path = tmp_path / "consistency.json"
    path.write_text(json.dumps(proof), encoding="utf-8")
    done = _offline(path)
    assert done.returncode == 0, done.stdout
    assert "大きさ 3 のツリーは、大きさ 10 のツリーの先頭部分です" in done.stdout
    between = _cli("audit_tree_head", "--municipality", A, "--from-size", "3", "--size", "9")
    assert proofcheck.check(between).ok and between["second"]["tree_size"] == 9
    broken = copy.deepcopy(proof)
    broken["consistency_path"][0] = b64(b"\x02" * 32)
    assert not proofcheck.check(broken).ok
    with pytest.raises(CommandError, match="大きさ 4 の署名済みツリーヘッドはありません"):
        _cli("audit_tree_head", "--municipality", A, "--from-size", "4")
    with pytest.raises(CommandError, match="署名済みのツリーヘッドがありません"):
        _cli("audit_tree_head", "--municipality", B)


def test_a_rewritten_history_signed_with_the_real_key_fails_the_consistency_check() -> None:
    """A split view: the log signs a head over a history that does not extend the one a witness holds."""
    key = signer()
    leaves = [merkle.leaf_hash(f"entry {i}".encode()) for i in range(8)]
    forked = [*leaves[:2], merkle.leaf_hash(b"rewritten"), *leaves[3:]]

    def head(tree: list[bytes], size: int) -> dict[str, Any]:
        root = merkle.root_of(tree[:size])
        return {
            "tree_size": size,
            "root_hash": b64(root),
            "checkpoint": key.sign(Checkpoint(origin(A), size, root).text()),
            "verifier_key": key.verifier.encode(),
        }

    def proof(tree: list[bytes]) -> list[str]:
        ranges = merkle.consistency_ranges(4, 8)
        return [
            b64(merkle.range_hash(s, e, lambda st, lv: merkle.root_of(tree[st : st + (1 << lv)]))) for s, e in ranges
        ]

    honest = {
        "format": "lgcloud-audit-consistency-proof/1",
        "log": {"origin": origin(A), "chain": A},
        "first": head(leaves, 4),
        "second": head(leaves, 8),
        "consistency_path": proof(leaves),
    }
    assert proofcheck.check(honest).ok
    split = {**honest, "second": head(forked, 8), "consistency_path": proof(forked)}
    verdict = proofcheck.check(split)
    assert not verdict.ok and "not a prefix" in verdict.en


def test_an_unsealed_record_has_no_proof_yet(tokyo: list[str]) -> None:
    ids = _append(A, 1)
    ctx = TenantContext.system(A, purpose="test")
    with pytest.raises(ProofUnavailable, match="封印待ち"):
        inclusion_proof(ctx, ids[0])
    seal_audit()
    assert proofcheck.check(inclusion_proof(ctx, ids[0])).ok
    with pytest.raises(CommandError, match="2 番目の封印済みの記録はありません"):
        _cli("audit_proof", "inclusion", "--municipality", A, "--seq", "2")


def test_a_municipality_reaches_its_own_chain_only(tokyo: list[str]) -> None:
    ids = _append(B, 1)
    seal_audit()
    with pytest.raises(ProofUnavailable, match="ありません"):
        inclusion_proof(TenantContext.system(A, purpose="test"), ids[0])
