"""Append-only, hash-chained audit log: one chain per municipality, one for the platform."""

from __future__ import annotations

from django.db import models

PLATFORM_CHAIN = "platform"
GENESIS_HASH = "0" * 64


class AuditRecord(models.Model):
    """One audited access or change. Never updated or deleted.

    ``hash`` = SHA-256 over the canonical JSON of every other field, including
    ``prev_hash``; editing, deleting or reordering any record breaks the chain
    (``lgcloud audit_verify``). On PostgreSQL the app role cannot UPDATE or
    DELETE this table at all.
    """

    # Null for the platform chain (operator actions); otherwise the tenant.
    municipality = models.ForeignKey(
        "municipalities.Municipality", on_delete=models.PROTECT, null=True, related_name="+"
    )
    chain = models.CharField(max_length=8)
    seq = models.PositiveBigIntegerField()
    occurred_at = models.DateTimeField()
    actor_id = models.BigIntegerField(null=True)
    actor_name = models.CharField(max_length=150)
    actor_role = models.CharField(max_length=200, blank=True)
    purpose = models.CharField(max_length=100)
    action = models.CharField(max_length=100)
    subject_type = models.CharField(max_length=100, blank=True)
    subject_id = models.CharField(max_length=100, blank=True)
    fields = models.JSONField(default=list)
    request_id = models.CharField(max_length=64, blank=True)
    prev_hash = models.CharField(max_length=64)
    hash = models.CharField(max_length=64)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["chain", "seq"], name="audit_record_chain_seq_uniq")]
        indexes = [
            models.Index(fields=["municipality", "occurred_at"], name="audit_mun_time_idx"),
            models.Index(fields=["municipality", "action"], name="audit_mun_action_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.chain}#{self.seq} {self.action}"


class AuditChainHead(models.Model):
    """The last sequence number and hash of a chain.

    Appends lock this row, so concurrent writers queue; it also lets
    verification notice records cut off the end of a chain.
    """

    chain = models.CharField(max_length=8, primary_key=True)
    municipality = models.ForeignKey(
        "municipalities.Municipality", on_delete=models.PROTECT, null=True, related_name="+"
    )
    last_seq = models.PositiveBigIntegerField(default=0)
    last_hash = models.CharField(max_length=64, default=GENESIS_HASH)

    def __str__(self) -> str:
        return f"{self.chain}@{self.last_seq}"
