"""行政手続オンライン化: published procedure versions, submissions, their history and attachments."""

from __future__ import annotations

from django.db import models

from lgcloud.core.models import TenantModel


class ProcedureDefinition(models.Model):
    """One published version of a procedure (platform-wide, never edited once published).

    A change to the YAML after publication is published as the next version; each
    submission points at the version it was filed under and is reviewed against it.
    """

    code = models.CharField(max_length=40)
    version = models.PositiveIntegerField()
    title = models.CharField(max_length=200)
    content = models.JSONField()
    sha256 = models.CharField(max_length=64)
    published_at = models.DateTimeField()

    class Meta:
        constraints = [models.UniqueConstraint(fields=["code", "version"], name="procedure_version_uniq")]

    def __str__(self) -> str:
        return f"{self.code} v{self.version}"


class SubmissionStatus(models.TextChoices):
    SUBMITTED = "submitted", "受付"
    IN_REVIEW = "in_review", "審査中"
    RETURNED = "returned", "補正依頼中"
    APPROVED = "approved", "承認（処理済み）"
    REJECTED = "rejected", "却下"


class Channel(models.TextChoices):
    ONLINE = "online", "オンライン（本人）"
    COUNTER = "counter", "窓口（代理入力）"


class Submission(TenantModel):
    number = models.PositiveBigIntegerField("受付番号")
    definition = models.ForeignKey(ProcedureDefinition, on_delete=models.PROTECT, related_name="+")
    procedure_code = models.CharField(max_length=40)
    atena_number = models.CharField("申請者の宛名番号", max_length=10)
    resident_account_id = models.BigIntegerField(null=True, blank=True)
    channel = models.CharField(max_length=16, choices=Channel.choices)
    # 代理入力: the clerk who filled it in with the resident at the counter.
    entered_by_id = models.BigIntegerField(null=True, blank=True)
    entered_by_name = models.CharField(max_length=150, blank=True)
    status = models.CharField(max_length=16, choices=SubmissionStatus.choices, default=SubmissionStatus.SUBMITTED)
    values = models.JSONField(default=dict)
    prefill = models.JSONField(default=dict)  # {field: {label, value, source}} as shown to the resident
    disputes = models.JSONField(default=dict)  # {field: note}: "this prefilled item is wrong"
    contact_email = models.EmailField(blank=True)
    submitted_at = models.DateTimeField()
    updated_at = models.DateTimeField(auto_now=True)
    claimed_by_id = models.BigIntegerField(null=True, blank=True)
    claimed_by_name = models.CharField(max_length=150, blank=True)
    decision_reason = models.TextField(blank=True)
    decided_at = models.DateTimeField(null=True, blank=True)
    result = models.JSONField(default=dict)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["municipality", "number"], name="submission_number_uniq")]
        indexes = [
            models.Index(fields=["municipality", "procedure_code", "status"], name="submission_queue_idx"),
            models.Index(fields=["municipality", "resident_account_id"], name="submission_account_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.procedure_code} {self.number}"


class SubmissionEvent(TenantModel):
    """The history of a submission (append-only): who did what, when, and the reason given."""

    submission = models.ForeignKey(Submission, on_delete=models.PROTECT, related_name="events")
    kind = models.CharField(max_length=32)
    occurred_at = models.DateTimeField()
    actor_name = models.CharField(max_length=150)
    message = models.TextField(blank=True)

    class Meta:
        indexes = [models.Index(fields=["municipality", "submission", "occurred_at"], name="submission_event_idx")]


class Attachment(TenantModel):
    """A file a resident attached (or a document approval produced), stored under its municipality."""

    submission = models.ForeignKey(Submission, on_delete=models.PROTECT, related_name="attachments")
    name = models.CharField(max_length=40)  # the definition's attachment name, or "issued_certificate"
    original_name = models.CharField(max_length=200)
    content_type = models.CharField(max_length=100)
    size = models.PositiveIntegerField()
    sha256 = models.CharField(max_length=64)
    storage_path = models.CharField(max_length=300)  # relative to the attachment root; starts with the lg_code
    scan_status = models.CharField(max_length=16)  # clean / not_scanned
    uploaded_at = models.DateTimeField()

    class Meta:
        indexes = [models.Index(fields=["municipality", "submission"], name="attachment_submission_idx")]
