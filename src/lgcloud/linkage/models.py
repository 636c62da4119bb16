"""連携: the event outbox, webhook subscriptions and deliveries, consumer cursors, API clients, transfers.

Every table is a tenant table (``municipality`` leads every constraint and index,
row-level security on PostgreSQL). ``Event`` and ``DeliveryAttempt`` are
append-only: the app role cannot UPDATE or DELETE them (see apps.py).
"""

from __future__ import annotations

import uuid

from django.db import models

from lgcloud.core.models import TenantModel


class Event(TenantModel):
    """One committed change, in the municipality's gap-free feed (docs/linkage.md: the event schema)."""

    event_id = models.UUIDField(default=uuid.uuid4, editable=False)
    # Allocated from the municipality's sequence inside the change's own transaction:
    # the row lock on the sequence serialises writers, so readers only ever see a
    # gap-free prefix of the feed.
    sequence = models.PositiveBigIntegerField()
    type = models.CharField(max_length=100)
    schema_version = models.PositiveSmallIntegerField(default=1)
    occurred_at = models.DateTimeField()
    effective_date = models.DateField(null=True, blank=True)
    subject_type = models.CharField(max_length=32)
    subject = models.CharField(max_length=64, blank=True)
    changed_items = models.JSONField(default=list)
    data = models.JSONField(default=dict)
    request_id = models.CharField(max_length=64, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["municipality", "sequence"], name="linkage_event_seq_uniq"),
            models.UniqueConstraint(fields=["municipality", "event_id"], name="linkage_event_id_uniq"),
        ]

    def __str__(self) -> str:
        return f"{self.municipality_id}#{self.sequence} {self.type}"


class Subscription(TenantModel):
    """A webhook: where to push which event types, with the signing secret (encrypted at rest)."""

    name = models.CharField("名称", max_length=100)
    url = models.URLField("送信先 URL", max_length=500)
    event_types = models.JSONField("イベント種別", default=list)  # exact types or prefixes ending in ".*"
    secret_ciphertext = models.BinaryField(editable=False)
    active = models.BooleanField(default=True)
    created_at = models.DateTimeField(auto_now_add=True)
    created_by = models.CharField(max_length=150)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["municipality", "name"], name="linkage_subscription_name_uniq")]

    def __str__(self) -> str:
        return self.name


class DeliveryStatus(models.TextChoices):
    PENDING = "pending", "送信待ち"
    DELIVERED = "delivered", "送信済み"
    DEAD = "dead", "送信失敗（停止）"


class Delivery(TenantModel):
    """One event to one subscription: retried with exponential backoff, dead-lettered after N attempts."""

    subscription = models.ForeignKey(Subscription, on_delete=models.PROTECT, related_name="deliveries")
    event = models.ForeignKey(Event, on_delete=models.PROTECT, related_name="+")
    status = models.CharField(max_length=16, choices=DeliveryStatus.choices, default=DeliveryStatus.PENDING)
    attempts = models.PositiveIntegerField(default=0)
    # When pending: the earliest time of the next attempt (also the lease of a claimed delivery).
    next_attempt_at = models.DateTimeField()
    last_status_code = models.PositiveSmallIntegerField(null=True, blank=True)
    last_error = models.CharField(max_length=200, blank=True)
    delivered_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField()

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["municipality", "subscription", "event"], name="linkage_delivery_sub_event_uniq"
            )
        ]
        indexes = [
            models.Index(fields=["municipality", "status", "next_attempt_at"], name="linkage_delivery_due_idx"),
            models.Index(fields=["municipality", "created_at"], name="linkage_delivery_time_idx"),
        ]


class DeliveryAttempt(TenantModel):
    """One HTTP attempt of a delivery (the delivery log). Never updated."""

    delivery = models.ForeignKey(Delivery, on_delete=models.PROTECT, related_name="attempt_log")
    number = models.PositiveIntegerField()
    attempted_at = models.DateTimeField()
    status_code = models.PositiveSmallIntegerField(null=True, blank=True)
    succeeded = models.BooleanField()
    error = models.CharField(max_length=200, blank=True)
    duration_ms = models.PositiveIntegerField(default=0)
    triggered_by = models.CharField(max_length=150, blank=True)  # a redelivery by staff names them

    class Meta:
        indexes = [models.Index(fields=["municipality", "delivery", "number"], name="linkage_attempt_delivery_idx")]


class ConsumerCursor(TenantModel):
    """How far an internal consumer (tax, benefits, transfers) has read a municipality's feed."""

    consumer = models.CharField(max_length=100)
    last_sequence = models.PositiveBigIntegerField(default=0)
    updated_at = models.DateTimeField(auto_now=True)
    failures = models.PositiveIntegerField(default=0)
    last_error = models.CharField(max_length=200, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["municipality", "consumer"], name="linkage_cursor_consumer_uniq")
        ]


class ApiClient(TenantModel):
    """Another system (a vendor's tax app, the 中間サーバー, a neighbouring municipality) with its scopes.

    It signs in with OAuth 2.0 client credentials (django-oauth-toolkit's Application);
    this row says for which municipality and for which purposes.
    """

    application = models.OneToOneField(
        "oauth2_provider.Application", on_delete=models.PROTECT, related_name="lgcloud_client"
    )
    name = models.CharField("名称", max_length=100)
    organisation = models.CharField("利用機関", max_length=200, blank=True)
    scopes = models.JSONField(default=list)
    created_at = models.DateTimeField(auto_now_add=True)
    created_by = models.CharField(max_length=150)
    revoked_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["municipality", "name"], name="linkage_client_name_uniq")]

    def __str__(self) -> str:
        return self.name


class TransferStatus(models.TextChoices):
    PENDING = "pending", "確認待ち"
    CONFIRMED = "confirmed", "転入処理済み"
    REJECTED = "rejected", "取下げ"


class Transfer(TenantModel):
    """A pending 転入 in the destination municipality, carrying what a 転出証明書 holds.

    ``municipality`` is the destination (B). The persons come from one 転出 異動 in
    the source (A); ``payload`` is shaped like the standard layout's person rows.
    """

    transfer_id = models.UUIDField(default=uuid.uuid4, editable=False)
    source_lg_code = models.CharField("転出元団体コード", max_length=6)
    source_change_number = models.PositiveBigIntegerField("転出元の異動番号")
    source_atena_numbers = models.JSONField(default=list)
    payload = models.JSONField(default=dict)
    planned_date = models.DateField("転出予定日")
    status = models.CharField(max_length=16, choices=TransferStatus.choices, default=TransferStatus.PENDING)
    created_at = models.DateTimeField()
    confirmed_at = models.DateTimeField(null=True, blank=True)
    confirmed_by = models.CharField(max_length=150, blank=True)
    change_number = models.PositiveBigIntegerField("転入の異動番号", null=True, blank=True)
    new_atena_numbers = models.JSONField(default=list)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["municipality", "transfer_id"], name="linkage_transfer_id_uniq"),
            models.UniqueConstraint(
                fields=["municipality", "source_lg_code", "source_change_number"], name="linkage_transfer_source_uniq"
            ),
        ]
        indexes = [models.Index(fields=["municipality", "status", "created_at"], name="linkage_transfer_status_idx")]
