"""Base model for tenant-owned tables."""

from __future__ import annotations

from django.db import models


class TenantModel(models.Model):
    """A row owned by one municipality.

    ``municipality`` leads every unique constraint and index of a tenant table,
    and row-level security on PostgreSQL keys on it (see core.postgres).
    """

    municipality = models.ForeignKey(
        "municipalities.Municipality",
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name="団体",
    )

    class Meta:
        abstract = True


class TenantSequence(TenantModel):
    """Per-municipality counters (宛名番号, 世帯番号, 異動番号, 交付番号): gap-free within a commit."""

    name = models.CharField(max_length=40)
    last_value = models.PositiveBigIntegerField(default=0)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["municipality", "name"], name="tenant_sequence_uniq")]

    def __str__(self) -> str:
        return f"{self.municipality_id}:{self.name}={self.last_value}"


class TenantDataKey(TenantModel):
    """A municipality's data key (AES-256), wrapped by the master key from the environment."""

    wrapped_key = models.BinaryField()
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["municipality"], name="tenant_data_key_uniq")]

    def __str__(self) -> str:
        return f"data key of {self.municipality_id}"


class IdempotencyKey(TenantModel):
    """A client-supplied ``Idempotency-Key`` and the first answer given for it.

    Written in the same transaction as the write it guards, so a retry after a
    lost acknowledgement (a failover, a dropped connection) either finds this row
    and gets the stored answer, or finds nothing because nothing was committed.
    ``fingerprint`` is an HMAC of the method, path and body (never the body
    itself: it may hold a 個人番号).
    """

    key = models.CharField(max_length=200)
    fingerprint = models.CharField(max_length=64)
    status_code = models.PositiveSmallIntegerField(default=0)  # 0 while the first request runs
    response = models.JSONField(null=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["municipality", "key"], name="idempotency_key_uniq")]
        indexes = [models.Index(fields=["municipality", "created_at"], name="idempotency_key_created")]

    def __str__(self) -> str:
        return f"{self.municipality_id}:{self.key}"
