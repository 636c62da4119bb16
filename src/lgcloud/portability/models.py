"""全件出力の申請 (ExportRequest): a bulk export that a second member of staff must approve.

A whole register on a USB stick once went missing (Amagasaki, 2022; see
docs/portability.md). So a full export from the staff pages or the API is a request
that another member of staff holding ``portability:export:approve`` approves; the
export then runs as that approver into the configured export directory only, and
every step is audited.
"""

from __future__ import annotations

from django.db import models

from lgcloud.core.models import TenantModel


class ExportRequest(TenantModel):
    class State(models.TextChoices):
        REQUESTED = "requested", "申請中"
        APPROVED = "approved", "承認済"
        COMPLETED = "completed", "出力済"
        FAILED = "failed", "失敗"
        REJECTED = "rejected", "却下"
        CANCELLED = "cancelled", "取消"
        EXPIRED = "expired", "期限切れ"

    requester_id = models.PositiveBigIntegerField("申請者ID")
    requester_name = models.CharField("申請者", max_length=150)
    purpose = models.CharField("出力の目的・理由", max_length=500)
    include_individual_numbers = models.BooleanField("個人番号を含める", default=False)
    state = models.CharField("状態", max_length=16, choices=State.choices, default=State.REQUESTED)
    requested_at = models.DateTimeField("申請日時")
    expires_at = models.DateTimeField("承認期限")
    decided_by_id = models.PositiveBigIntegerField("承認・却下者ID", null=True)
    decided_by_name = models.CharField("承認・却下者", max_length=150, blank=True)
    decided_at = models.DateTimeField("承認・却下・取消日時", null=True)
    decision_reason = models.CharField("却下の理由", max_length=500, blank=True)
    job_id = models.PositiveBigIntegerField("ジョブID", null=True)
    started_at = models.DateTimeField("出力開始日時", null=True)
    finished_at = models.DateTimeField("出力終了日時", null=True)
    # Relative to settings.EXPORT_DIR: <lg_code>/<YYYYmmddTHHMMSS>-<id> (never a path from the user).
    bundle = models.CharField("出力フォルダ", max_length=200, blank=True)
    # [{"entity", "file", "rows", "sha256"}] as in the manifest, and the manifest's own SHA-256.
    files = models.JSONField("ファイル", default=list)
    manifest_sha256 = models.CharField("manifest.json の SHA-256", max_length=64, blank=True)
    error = models.CharField("エラー", max_length=500, blank=True)  # Japanese, never personal data

    class Meta:
        verbose_name = "全件出力の申請"
        indexes = [
            models.Index(fields=["municipality", "requested_at"], name="export_request_requested_idx"),
            models.Index(fields=["municipality", "state"], name="export_request_state_idx"),
        ]

    def __str__(self) -> str:
        return f"export request {self.pk} ({self.state})"
