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


class Job(TenantModel):
    """One run of a batch (賦課計算, 給付の対象者抽出, 振込ファイル作成 …), visible to staff.

    ``(municipality, kind, key)`` is unique: running the same batch again finds this
    row and carries on where it stopped (each chunk of work commits together with the
    counts below), or reports it finished. Errors name the item and a code, never
    personal data.
    """

    class State(models.TextChoices):
        RUNNING = "running", "実行中"
        INTERRUPTED = "interrupted", "中断（再実行で再開）"
        SUCCEEDED = "succeeded", "完了"
        FAILED = "failed", "失敗"

    kind = models.CharField("種類", max_length=64)
    key = models.CharField("識別キー", max_length=200)
    label = models.CharField("名称", max_length=200, blank=True)
    # The permission a member of staff needs to see this job (that of the app that runs it).
    permission = models.CharField(max_length=64)
    state = models.CharField("状態", max_length=16, choices=State.choices, default=State.RUNNING)
    dry_run = models.BooleanField("試行（書き込みなし）", default=False)
    params = models.JSONField("条件", default=dict)
    total = models.PositiveIntegerField("対象件数", null=True)
    done = models.PositiveIntegerField("処理済み", default=0)
    skipped = models.PositiveIntegerField("処理済みのため省略", default=0)
    failed = models.PositiveIntegerField("エラー", default=0)
    errors = models.JSONField("エラー（先頭100件）", default=list)
    result = models.JSONField("結果", default=dict)
    # The key of the last item of the last committed chunk: a rerun starts after it.
    checkpoint = models.CharField("再開位置", max_length=200, blank=True)
    attempts = models.PositiveSmallIntegerField("実行回数", default=0)
    actor_name = models.CharField("実行者", max_length=150)
    host = models.CharField(max_length=255, blank=True)
    pid = models.PositiveIntegerField(null=True)
    created_at = models.DateTimeField("登録日時", auto_now_add=True)
    started_at = models.DateTimeField("開始日時", null=True)
    finished_at = models.DateTimeField("終了日時", null=True)
    heartbeat_at = models.DateTimeField("最終更新", null=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["municipality", "kind", "key"], name="job_kind_key_uniq")]
        indexes = [models.Index(fields=["municipality", "created_at"], name="job_created_idx")]

    def __str__(self) -> str:
        return f"{self.kind}:{self.key} ({self.state})"


class TenantPlacement(models.Model):
    """The tenant directory: which database cluster holds a municipality's data (core.placement).

    A platform table in the default database, not a tenant table: it is read
    before any tenant block opens. ``frozen`` refuses writes while the
    municipality is being moved between clusters.
    """

    lg_code = models.CharField("全国地方公共団体コード", max_length=6, unique=True)
    cluster = models.CharField(max_length=64)
    frozen = models.BooleanField(default=False)
    updated_at = models.DateTimeField(auto_now=True)

    def __str__(self) -> str:
        return f"{self.lg_code} → {self.cluster}{' (frozen)' if self.frozen else ''}"
