from __future__ import annotations

from datetime import datetime

from ninja import Field, Schema


class AuditRecordOut(Schema):
    id: int
    seq: int | None = Field(..., description="チェーンの中の番号。封印されるまで（約1秒）は null（封印待ち）")
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


class AuditPageOut(Schema):
    records: list[AuditRecordOut]
    page: int
    has_next: bool
    total: int
