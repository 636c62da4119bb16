"""API schemas of the linkage app (the event schema is documented in docs/linkage.md)."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from ninja import Field, Schema


class EventSubjectOut(Schema):
    type: str
    id: str


class EventOut(Schema):
    """One event, schema version 1."""

    id: str
    type: str
    schema_version: int
    municipality: str
    sequence: int
    occurred_at: str
    effective_date: str | None
    subject: EventSubjectOut
    changed_items: list[str]
    data: dict[str, Any]


class FeedOut(Schema):
    events: list[EventOut]
    next_cursor: int = Field(..., description="次回の after に渡す値（新しいイベントがなければ after と同じ）")
    has_more: bool


class PurposeOut(Schema):
    code: str
    label: str
    legal_basis: str
    references: list[str]


class PurposeReadOut(Schema):
    atena_number: str
    purpose: PurposeOut
    items: dict[str, Any] = Field(..., description="利用目的で認められた項目だけ")


class AccessEntryOut(Schema):
    id: int = Field(..., description="記録の番号（包含証明の取得に使う）")
    seq: int | None = Field(..., description="団体の監査チェーンの中の番号。封印されるまで（約1秒）は null")
    sealed: bool = Field(..., description="封印済みなら true（包含証明を取得できる）、封印待ちなら false")
    seal_status: str = Field(..., description="封印済み または 封印待ち")
    proof_url: str | None = Field(..., description="包含証明（JSON）の URL。封印待ちの間は null")
    occurred_at: datetime
    kind: str = Field(
        ...,
        description=(
            "staff（職員：ロールのみ）, system（外部システム）, municipality（他団体）, self（ご本人）, platform"
        ),
    )
    who: str
    action: str
    action_label: str
    purpose: str
    purpose_label: str
    items: list[str]


class SubscriptionIn(Schema):
    name: str = Field(..., max_length=100)
    url: str = Field(..., max_length=500)
    event_types: list[str] = Field(..., min_length=1)


class SubscriptionOut(Schema):
    id: int
    name: str
    url: str
    event_types: list[str]
    active: bool


class SubscriptionCreatedOut(SubscriptionOut):
    secret: str = Field(..., description="署名鍵（whsec_…）。この応答でのみ表示されます")


class DeliveryOut(Schema):
    id: int
    subscription: str
    event_id: str
    event_type: str
    sequence: int
    status: str
    attempts: int
    next_attempt_at: datetime | None
    last_status_code: int | None
    last_error: str
    delivered_at: datetime | None
    created_at: datetime


class TransferOut(Schema):
    transfer_id: str
    source_lg_code: str
    source_name: str
    planned_date: date
    status: str
    persons: list[dict[str, Any]]
    change_number: int | None
    new_atena_numbers: list[str]


class TransferConfirmIn(Schema):
    address: str = Field(..., min_length=1, max_length=200)
    address_detail: str = Field("", max_length=100)
    effective_date: date
    filed_on: date
    head: str | None = Field(None, description="新しい世帯主（転出元の宛名番号）")
    reason: str = ""
    confirm_duplicates: bool = False
