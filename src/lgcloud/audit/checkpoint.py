"""Signed tree heads as C2SP checkpoints in signed notes (https://c2sp.org/tlog-checkpoint,
https://c2sp.org/signed-note), the format transparency-log witnesses co-sign.

A checkpoint is three lines of text::

    lgcloud.example.jp/audit/131016      origin: the log (one per municipality, one for the platform)
    1234                                 tree size
    <base64 of the 32-byte root hash>

signed with Ed25519 as a note: the text, a blank line, then ``— <key name> <base64(key id ||
signature)>``, where the key id is the first 4 bytes of SHA-256(key name || 0x0A || 0x01 ||
public key). The verifier key is published as ``<key name>+<key id hex>+<base64(0x01 ||
public key)>``.

No database and no Django: the offline verifier (``proofcheck``) uses this module as it is.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import re
from dataclasses import dataclass

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

ED25519 = 0x01
_DASH = "\u2014 "  # em dash and a space open each signature line
_NAME = re.compile(r"^[^\s+]+$")  # a key name or origin: no white space, no '+'
_SIZE = re.compile(r"^(0|[1-9][0-9]{0,19})$")


class CheckpointError(ValueError):
    """A checkpoint, note or key that is malformed or whose signature does not verify."""


@dataclass(frozen=True)
class Checkpoint:
    origin: str
    size: int
    root: bytes

    def text(self) -> str:
        if not _NAME.match(self.origin):
            raise CheckpointError(f"invalid origin {self.origin!r}")
        return f"{self.origin}\n{self.size}\n{base64.b64encode(self.root).decode()}\n"


def parse_checkpoint(text: str) -> Checkpoint:
    lines = text.split("\n")
    if len(lines) < 4 or lines[-1] != "" or any(line == "" for line in lines[:-1]):
        raise CheckpointError("a checkpoint is at least three non-empty lines, each ending in a newline")
    origin, size, root = lines[0], lines[1], lines[2]
    if not _NAME.match(origin):
        raise CheckpointError("invalid origin line")
    if not _SIZE.match(size):
        raise CheckpointError("invalid tree size line")
    try:
        digest = base64.b64decode(root, validate=True)
    except binascii.Error:
        raise CheckpointError("the root hash is not base64") from None
    if len(digest) != 32 or base64.b64encode(digest).decode() != root:
        raise CheckpointError("the root hash is not 32 bytes of standard base64")
    return Checkpoint(origin, int(size), digest)


def key_id(name: str, public: bytes) -> bytes:
    return hashlib.sha256(name.encode() + b"\n" + bytes([ED25519]) + public).digest()[:4]


@dataclass(frozen=True)
class VerifierKey:
    name: str
    public: bytes  # 32 bytes, raw Ed25519

    @property
    def id(self) -> bytes:
        return key_id(self.name, self.public)

    def encode(self) -> str:
        return f"{self.name}+{self.id.hex()}+{base64.b64encode(bytes([ED25519]) + self.public).decode()}"


def parse_verifier_key(vkey: str) -> VerifierKey:
    # The name has no '+'; the base64 key may.
    name, _, rest = vkey.strip().partition("+")
    hex_id, sep, encoded = rest.partition("+")
    if not sep or not _NAME.match(name) or not re.fullmatch(r"[0-9a-f]{8}", hex_id):
        raise CheckpointError("a verifier key reads <name>+<8 hex digits>+<base64>")
    try:
        raw = base64.b64decode(encoded, validate=True)
    except binascii.Error:
        raise CheckpointError("the verifier key is not base64") from None
    if len(raw) != 33 or raw[0] != ED25519:
        raise CheckpointError("only Ed25519 verifier keys (type 0x01, 32 bytes) are supported")
    key = VerifierKey(name, raw[1:])
    if key.id.hex() != hex_id:
        raise CheckpointError("the verifier key's id does not match its name and key")
    return key


class Signer:
    """An Ed25519 key that signs notes under ``name``."""

    def __init__(self, name: str, private: Ed25519PrivateKey) -> None:
        if not _NAME.match(name):
            raise CheckpointError(f"invalid key name {name!r}")
        self.name = name
        self._private = private
        public = private.public_key().public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
        self.verifier = VerifierKey(name, public)

    def sign(self, text: str) -> str:
        """The signed note: ``text``, a blank line, one signature line."""
        signature = self._private.sign(text.encode())
        blob = base64.b64encode(self.verifier.id + signature).decode()
        return f"{text}\n{_DASH}{self.name} {blob}\n"


def open_note(note: str, key: VerifierKey) -> str:
    """The text of ``note`` if it carries a valid signature by ``key``; CheckpointError otherwise.

    Signature lines of other keys (a witness's co-signature) are ignored.
    """
    split = note.rfind("\n\n")
    if split < 0 or not note.endswith("\n"):
        raise CheckpointError("a signed note is text, a blank line and signature lines")
    text, signatures = note[: split + 1], note[split + 2 :]
    for line in signatures.splitlines():
        if not line.startswith(_DASH):
            raise CheckpointError("a signature line starts with an em dash and a space")
        name, _, blob = line[len(_DASH) :].rpartition(" ")
        if name != key.name:
            continue
        try:
            raw = base64.b64decode(blob, validate=True)
        except binascii.Error:
            raise CheckpointError("a signature is not base64") from None
        if len(raw) != 4 + 64 or raw[:4] != key.id:
            continue
        try:
            Ed25519PublicKey.from_public_bytes(key.public).verify(raw[4:], text.encode())
        except InvalidSignature:
            raise CheckpointError("the signature does not verify") from None
        return text
    raise CheckpointError(f"no signature by {key.name} ({key.id.hex()})")
