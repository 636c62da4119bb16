"""The leaf an audit record becomes in its chain's Merkle tree (pure; shared by sealer, verifier and proofs).

A leaf is the canonical JSON (sorted keys, no spaces, UTF-8, no ASCII escaping) of the
record's *entry*: chain, seq, UTC time with microseconds, the actor's roles, purpose,
action, subject, the names of the fields, and ``actor``, a commitment to who acted:
SHA-256 over the canonical JSON of the actor's id and name, the request id and the
record's random ``nonce``. A resident who downloads an inclusion proof for an entry of
their access history so learns that a member of staff in a role read their data, and
when, but not who (the access list shows staff by role only, docs/linkage.md §7); an
auditor, who reads the record itself, recomputes the commitment.
"""

from __future__ import annotations

import hashlib
import json
from datetime import UTC, datetime
from typing import Any, Protocol

LEAF_VERSION = 1
# The keys of a leaf's entry, all required (the offline verifier checks them).
ENTRY_KEYS = frozenset(
    {
        "v",
        "chain",
        "seq",
        "occurred_at",
        "actor",
        "actor_role",
        "purpose",
        "action",
        "subject_type",
        "subject_id",
        "fields",
    }
)


class Recorded(Protocol):
    chain: str
    occurred_at: datetime
    actor_id: int | None
    actor_name: str
    actor_role: str
    purpose: str
    action: str
    subject_type: str
    subject_id: str
    fields: Any
    request_id: str
    nonce: str


def canonical(value: Any) -> bytes:
    return json.dumps(value, sort_keys=True, ensure_ascii=False, separators=(",", ":")).encode("utf-8")


def canonical_time(value: datetime) -> str:
    return value.astimezone(UTC).isoformat(timespec="microseconds")


def actor_commitment(record: Recorded) -> str:
    hidden = {
        "actor_id": record.actor_id,
        "actor_name": record.actor_name,
        "request_id": record.request_id,
        "nonce": record.nonce,
    }
    return hashlib.sha256(canonical(hidden)).hexdigest()


def entry(record: Recorded, seq: int) -> dict[str, Any]:
    """What the leaf at ``seq`` (1-based) says about ``record``."""
    return {
        "v": LEAF_VERSION,
        "chain": record.chain,
        "seq": seq,
        "occurred_at": canonical_time(record.occurred_at),
        "actor": actor_commitment(record),
        "actor_role": record.actor_role,
        "purpose": record.purpose,
        "action": record.action,
        "subject_type": record.subject_type,
        "subject_id": record.subject_id,
        "fields": list(record.fields),
    }


def entry_leaf(value: dict[str, Any]) -> bytes:
    """The leaf's bytes: the canonical JSON of its entry."""
    return canonical(value)
