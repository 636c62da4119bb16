"""Canonical form and hash of an audit record (pure; shared by writer and verifier)."""

from __future__ import annotations

import hashlib
import json
from datetime import UTC, datetime
from typing import Any


def canonical_time(value: datetime) -> str:
    return value.astimezone(UTC).isoformat(timespec="microseconds")


def record_hash(
    *,
    chain: str,
    seq: int,
    occurred_at: datetime,
    actor_id: int | None,
    actor_name: str,
    actor_role: str,
    purpose: str,
    action: str,
    subject_type: str,
    subject_id: str,
    fields: Any,
    request_id: str,
    prev_hash: str,
) -> str:
    payload = {
        "chain": chain,
        "seq": seq,
        "occurred_at": canonical_time(occurred_at),
        "actor_id": actor_id,
        "actor_name": actor_name,
        "actor_role": actor_role,
        "purpose": purpose,
        "action": action,
        "subject_type": subject_type,
        "subject_id": subject_id,
        "fields": fields,
        "request_id": request_id,
        "prev_hash": prev_hash,
    }
    encoded = json.dumps(payload, sort_keys=True, ensure_ascii=False, separators=(",", ":")).encode("utf-8")
    return hashlib.sha256(encoded).hexdigest()
