"""API schemas of the export requests (全件出力の申請)."""

from __future__ import annotations

from datetime import datetime

from ninja import Field, Schema


class ExportRequestIn(Schema):
    purpose: str = Field(..., min_length=1, max_length=500, description="出力の目的・理由（必須）")
    include_individual_numbers: bool = Field(False, description="個人番号を含める")


class ExportRejectIn(Schema):
    reason: str = Field(..., min_length=1, max_length=500, description="却下の理由（必須）")


class ExportFileOut(Schema):
    entity: str
    file: str
    rows: int
    sha256: str


class ExportRequestOut(Schema):
    id: int
    state: str = Field(..., description="requested / approved / completed / failed / rejected / cancelled / expired")
    state_label: str
    requester_id: int
    requester_name: str
    purpose: str
    include_individual_numbers: bool
    requested_at: datetime
    expires_at: datetime
    decided_by_id: int | None
    decided_by_name: str
    decided_at: datetime | None
    decision_reason: str
    started_at: datetime | None
    finished_at: datetime | None
    job_id: int | None
    job_state: str | None = Field(None, description="running / interrupted / succeeded / failed（実行ジョブの状態）")
    bundle: str = Field(..., description="出力フォルダ（出力用フォルダからの相対パス）。ダウンロードはできません")
    files: list[ExportFileOut]
    manifest_sha256: str
    error: str
