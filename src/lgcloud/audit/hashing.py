"""Canonical form and hash of an audit record (pure; shared by writer and verifier)."""

from __future__ import annotations

import hashlib
import json
from datetime import UTC, datetime
from typing import Any, Protocol

# The fields a record's hash covers, in the canonical document's key order.
HASHED_FIELDS = (
    "chain",
    "seq",
    "occurred_at",
    "actor_id",
    "actor_name",
    "actor_role",
    "purpose",
    "action",
    "subject_type",
    "subject_id",
    "fields",
    "request_id",
    "prev_hash",
)


class Hashable(Protocol):
    chain: str
    seq: int
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
    prev_hash: str


def canonical_time(value: datetime) -> str:
    return value.astimezone(UTC).isoformat(timespec="microseconds")


def record_hash(record: Hashable) -> str:
    """SHA-256 over the canonical JSON of every hashed field (sorted keys, UTF-8, no spaces)."""
    payload = {name: getattr(record, name) for name in HASHED_FIELDS}
    payload["occurred_at"] = canonical_time(record.occurred_at)
    encoded = json.dumps(payload, sort_keys=True, ensure_ascii=False, separators=(",", ":")).encode("utf-8")
    return hashlib.sha256(encoded).hexdigest()
