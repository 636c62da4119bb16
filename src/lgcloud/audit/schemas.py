from __future__ import annotations

from datetime import datetime

from ninja import Schema


class AuditRecordOut(Schema):
    seq: int
    occurred_at: datetime
    actor_id: int | None
    actor_name: str
    actor_role: str
    purpose: str
    action: str
    subject_type: str
    subject_id: str
    fields: list[str]
    request_id: str
    prev_hash: str
    hash: str


class AuditPageOut(Schema):
    records: list[AuditRecordOut]
    page: int
    has_next: bool
    total: int
