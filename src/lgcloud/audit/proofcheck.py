"""Offline verifier of the audit log's proof bundles: ``python -m lgcloud.audit.proofcheck FILE.json [--key VKEY]``.

Needs no database, no settings and no network: only this package's pure modules and the
``cryptography`` package. It checks, for

- an inclusion proof: the tree head's signature, that the entry is the leaf at its index
  (RFC 9162 §2.1.3.2) under that head, and that the entry belongs to the head's chain;
- a consistency proof: both heads' signatures and that the older tree is a prefix of the
  newer one (RFC 9162 §2.1.4.2);
- a tree head: its signature.

The bundle names the key that signed it; ``--key`` (repeatable) pins the key(s) you trust,
as published by the municipality. Without ``--key`` the signature only shows the bundle is
self-consistent, and the output says so. Prints ``OK`` or ``NG`` with the reason, in
Japanese and in English; exit status 0 (OK), 1 (NG) or 2 (the file cannot be read).
"""

from __future__ import annotations

import argparse
import base64
import binascii
import json
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

from . import merkle
from .checkpoint import Checkpoint, CheckpointError, VerifierKey, open_note, parse_checkpoint, parse_verifier_key
from .hashing import ENTRY_KEYS, entry_leaf

TREE_HEAD = "lgcloud-audit-tree-head/1"
INCLUSION = "lgcloud-audit-inclusion-proof/1"
CONSISTENCY = "lgcloud-audit-consistency-proof/1"


class Rejected(Exception):
    """The bundle does not prove what it claims: (Japanese, English)."""

    def __init__(self, ja: str, en: str) -> None:
        super().__init__(en)
        self.ja = ja
        self.en = en


@dataclass(frozen=True)
class Verdict:
    ok: bool
    ja: str
    en: str
    key: str  # the verifier key that signed, as published text
    pinned: bool  # whether that key was among the --key values

    def lines(self) -> list[str]:
        head = "OK" if self.ok else "NG"
        out = [f"{head}: {self.ja}", f"{head}: {self.en}"]
        if self.ok and not self.pinned:
            out += [
                f"注意: 署名した鍵 {self.key} が、団体の公表している鍵と同じかを"
                "確かめてください（--key で指定できます）。",
                f"Note: check that the signing key {self.key} is the one the municipality publishes"
                " (pin it with --key).",
            ]
        return out


def _hash(value: Any, what: str) -> bytes:
    try:
        raw = base64.b64decode(str(value), validate=True)
    except binascii.Error:
        raw = b""
    if len(raw) != merkle.HASH_SIZE:
        raise Rejected(f"{what} が 32 バイトの base64 ではありません。", f"{what} is not 32 bytes of base64.")
    return raw


def _int(value: Any, what: str) -> int:
    if not isinstance(value, int) or isinstance(value, bool) or value < 0:
        raise Rejected(f"{what} が 0 以上の整数ではありません。", f"{what} is not a non-negative integer.")
    return value


def _key(text: Any, pinned: Sequence[VerifierKey]) -> tuple[VerifierKey, bool]:
    try:
        key = parse_verifier_key(str(text))
    except CheckpointError as exc:
        raise Rejected(
            f"公開鍵の形式が正しくありません（{exc}）。", f"the verifier key is malformed ({exc})."
        ) from None
    if pinned and key not in pinned:
        raise Rejected(
            "ツリーヘッドに署名した鍵が、指定された鍵（--key）のどれとも一致しません。",
            "the tree head was signed by a key other than the pinned one(s) (--key).",
        )
    return key, bool(pinned)


def _signed_head(
    head: Any, chain: str, pinned: Sequence[VerifierKey], label: tuple[str, str]
) -> tuple[Checkpoint, str, bool]:
    """Check one tree head: its signature, that its checkpoint says what its fields say, and its chain."""
    if not isinstance(head, dict):
        raise Rejected(f"{label[0]}がありません。", f"the {label[1]} is missing.")
    key, was_pinned = _key(head.get("verifier_key"), pinned)
    try:
        text = open_note(str(head.get("checkpoint", "")), key)
        checkpoint = parse_checkpoint(text)
    except CheckpointError as exc:
        raise Rejected(
            f"{label[0]}の署名を確認できません（{exc}）。", f"the {label[1]}'s signature does not verify ({exc})."
        ) from None
    if checkpoint.size != _int(head.get("tree_size"), "tree_size") or checkpoint.root != _hash(
        head.get("root_hash"), "root_hash"
    ):
        raise Rejected(
            f"{label[0]}の大きさかルートハッシュが、署名された内容と異なります。",
            f"the {label[1]}'s size or root hash differs from what was signed.",
        )
    if not checkpoint.origin.endswith(f"/{chain}"):
        raise Rejected(
            f"{label[0]}は別のチェーン（{checkpoint.origin}）のものです。",
            f"the {label[1]} belongs to another log ({checkpoint.origin}).",
        )
    return checkpoint, key.encode(), was_pinned


def _chain(bundle: dict[str, Any]) -> str:
    log = bundle.get("log")
    chain = log.get("chain") if isinstance(log, dict) else None
    if not isinstance(chain, str) or not chain:
        raise Rejected("bundle に log.chain（団体コードまたは platform）がありません。", "the bundle has no log.chain.")
    return chain


def _inclusion(bundle: dict[str, Any], pinned: Sequence[VerifierKey]) -> Verdict:
    chain = _chain(bundle)
    checkpoint, key, was_pinned = _signed_head(bundle.get("tree_head"), chain, pinned, ("ツリーヘッド", "tree head"))
    value = bundle.get("entry")
    if not isinstance(value, dict) or set(value) != ENTRY_KEYS:
        raise Rejected(
            "entry の項目が足りないか、余計な項目があります。", "the entry's keys are not the expected ones."
        )
    index = _int(bundle.get("leaf_index"), "leaf_index")
    size = _int(bundle.get("tree_size"), "tree_size")
    if value.get("chain") != chain or value.get("seq") != index + 1:
        raise Rejected(
            "entry の chain または seq が、証明の位置と合いません。",
            "the entry's chain or seq does not match the position it is proven at.",
        )
    if size != checkpoint.size:
        raise Rejected("tree_size がツリーヘッドの大きさと異なります。", "tree_size differs from the tree head's size.")
    raw_path = bundle.get("inclusion_path")
    if not isinstance(raw_path, list):
        raise Rejected("inclusion_path がありません。", "inclusion_path is missing.")
    path = [_hash(p, "inclusion_path") for p in raw_path]
    leaf = merkle.leaf_hash(entry_leaf(value))
    if not merkle.verify_inclusion(index, size, leaf, path, checkpoint.root):
        raise Rejected(
            "この記録は、署名されたツリーに含まれていません（記録か証明が改ざんされています）。",
            "the entry is not in the signed tree (the entry or the proof was altered).",
        )
    ja = (
        f"{value['occurred_at']} の記録（{value['action']}）は、チェーン {chain} の {index + 1} 番目として、"
        f"大きさ {size} の署名済みツリーに含まれています。"
    )
    en = (
        f"entry #{index + 1} of log {chain} ({value['action']} at {value['occurred_at']})"
        f" is in the signed tree of size {size}."
    )
    return Verdict(True, ja, en, key, was_pinned)


def _consistency(bundle: dict[str, Any], pinned: Sequence[VerifierKey]) -> Verdict:
    chain = _chain(bundle)
    first, _, first_pinned = _signed_head(bundle.get("first"), chain, pinned, ("古いツリーヘッド", "first tree head"))
    second, key, second_pinned = _signed_head(
        bundle.get("second"), chain, pinned, ("新しいツリーヘッド", "second tree head")
    )
    raw_path = bundle.get("consistency_path")
    if not isinstance(raw_path, list):
        raise Rejected("consistency_path がありません。", "consistency_path is missing.")
    path = [_hash(p, "consistency_path") for p in raw_path]
    if not merkle.verify_consistency(first.size, second.size, first.root, second.root, path):
        raise Rejected(
            f"大きさ {first.size} のツリーは大きさ {second.size} のツリーの先頭部分ではありません"
            "（記録が書き換えられています）。",
            f"the tree of size {first.size} is not a prefix of the tree of size {second.size} (the log was rewritten).",
        )
    ja = f"チェーン {chain} の大きさ {first.size} のツリーは、大きさ {second.size} のツリーの先頭部分です（追記のみ）。"
    en = f"log {chain}: the tree of size {first.size} is a prefix of the tree of size {second.size} (append-only)."
    return Verdict(True, ja, en, key, first_pinned and second_pinned)


def _tree_head(bundle: dict[str, Any], pinned: Sequence[VerifierKey]) -> Verdict:
    chain = _chain(bundle)
    checkpoint, key, was_pinned = _signed_head(bundle, chain, pinned, ("ツリーヘッド", "tree head"))
    ja = f"チェーン {chain} の大きさ {checkpoint.size} のツリーヘッドの署名は正しいものです。"
    en = f"the signature on log {chain}'s tree head of size {checkpoint.size} is valid."
    return Verdict(True, ja, en, key, was_pinned)


def check(bundle: Any, pinned: Sequence[VerifierKey] = ()) -> Verdict:
    """Verify a parsed bundle; an NG verdict (never an exception) for anything that does not prove out."""
    try:
        if not isinstance(bundle, dict):
            raise Rejected("JSON のオブジェクトではありません。", "not a JSON object.")
        kind = bundle.get("format")
        if kind == INCLUSION:
            return _inclusion(bundle, pinned)
        if kind == CONSISTENCY:
            return _consistency(bundle, pinned)
        if kind == TREE_HEAD:
            return _tree_head(bundle, pinned)
        raise Rejected(f"知らない形式です（format: {kind!r}）。", f"unknown format {kind!r}.")
    except Rejected as exc:
        return Verdict(False, exc.ja, exc.en, "", False)


class Output(Protocol):
    def write(self, text: str, /) -> Any: ...


def main(argv: Sequence[str] | None = None, out: Output | None = None, err: Output | None = None) -> int:
    out = out or sys.stdout
    err = err or sys.stderr
    parser = argparse.ArgumentParser(
        prog="python -m lgcloud.audit.proofcheck",
        description="監査ログの証明（JSON）をオフラインで検証します / verify an audit log proof bundle offline.",
    )
    parser.add_argument("file", help="証明の JSON ファイル（- で標準入力） / the proof bundle (- for standard input)")
    parser.add_argument(
        "--key",
        action="append",
        default=[],
        metavar="VKEY",
        help="信頼する公開鍵（団体が公表するもの、複数可） / a verifier key you trust (repeatable)",
    )
    args = parser.parse_args(argv)
    try:
        pinned = [parse_verifier_key(k) for k in args.key]
    except CheckpointError as exc:
        err.write(f"NG: --key の形式が正しくありません（{exc}） / NG: malformed --key ({exc})\n")
        return 2
    try:
        text = sys.stdin.read() if args.file == "-" else Path(args.file).read_text(encoding="utf-8")
        bundle = json.loads(text)
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        err.write(f"NG: ファイルを読めません（{exc}） / NG: cannot read the file ({exc})\n")
        return 2
    verdict = check(bundle, pinned)
    for line in verdict.lines():
        out.write(line + "\n")
    return 0 if verdict.ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
