"""The audit log: records appended without a shared lock, sealed in batches into one Merkle tree per chain.

There is one chain per municipality (``chain`` = its 団体コード) and one for the platform
(``platform``, no municipality). All three tables are insert-only: on PostgreSQL the app role
has no UPDATE, DELETE or TRUNCATE on them (core/postgres.py), and nothing in the code needs one.
"""

from __future__ import annotations

from django.db import models

PLATFORM_CHAIN = "platform"


class AuditRecord(models.Model):
    """One audited access or change, written in the transaction of the work it records.

    It has no place in its chain yet: the sealer (``audit.sealer``) gives it one by writing
    its :class:`AuditSeal` shortly after it commits, so appending never waits for another
    request. ``nonce`` is random per record: it keeps the actor commitment in the record's
    leaf from being guessed (``audit.hashing``). ``txid`` is PostgreSQL's transaction id of
    the writer, which lets the sealer find records that commit late without scanning the
    log (NULL on SQLite, where commits are serial and the id order is enough).
    """

    # Null for the platform chain (operator actions); otherwise the tenant.
    municipality = models.ForeignKey(
        "municipalities.Municipality", on_delete=models.PROTECT, null=True, related_name="+"
    )
    chain = models.CharField(max_length=8)
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
    nonce = models.CharField(max_length=32, blank=True)
    txid = models.BigIntegerField(null=True)

    class Meta:
        indexes = [
            models.Index(fields=["municipality", "occurred_at"], name="audit_mun_time_idx"),
            models.Index(fields=["municipality", "action"], name="audit_mun_action_idx"),
            models.Index(fields=["txid"], name="audit_txid_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.chain} {self.action} ({self.pk})"


class AuditSeal(models.Model):
    """A record's place in its chain: leaf ``seq - 1`` of the chain's Merkle tree.

    ``leaf_hash`` is SHA-256(0x00 || canonical entry) (RFC 9162 §2.1.1, ``audit.hashing``).
    ``nodes`` holds, in hex, the roots of the perfect subtrees this leaf completes, level 1
    upwards (one per trailing 1-bit of the leaf index), so every inclusion or consistency
    proof is read from about log2(n) rows.
    """

    municipality = models.ForeignKey(
        "municipalities.Municipality", on_delete=models.PROTECT, null=True, related_name="+"
    )
    chain = models.CharField(max_length=8)
    seq = models.PositiveBigIntegerField()
    # The unique (chain, record) constraint indexes it; the FK needs no index of its own.
    record = models.ForeignKey(AuditRecord, on_delete=models.PROTECT, related_name="seals", db_index=False)
    leaf_hash = models.CharField(max_length=64)
    nodes = models.TextField(blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["chain", "seq"], name="audit_seal_chain_seq_uniq"),
            models.UniqueConstraint(fields=["chain", "record"], name="audit_seal_chain_record_uniq"),
        ]

    def __str__(self) -> str:
        return f"{self.chain}#{self.seq}"


class AuditTreeHead(models.Model):
    """A signed tree head: the chain's Merkle root after a batch, signed by the sealer.

    ``checkpoint`` is the C2SP signed note (``audit.checkpoint``) over origin, tree size
    and root; ``verifier_key`` names the key that signed it. ``watermark`` is the sealer's
    own bookkeeping (which transactions it had seen, not signed): where a restarted sealer
    resumes looking for records that committed late.
    """

    municipality = models.ForeignKey(
        "municipalities.Municipality", on_delete=models.PROTECT, null=True, related_name="+"
    )
    chain = models.CharField(max_length=8)
    tree_size = models.PositiveBigIntegerField()
    root_hash = models.CharField(max_length=64)
    signed_at = models.DateTimeField()
    checkpoint = models.TextField()
    verifier_key = models.CharField(max_length=300)
    watermark = models.TextField(blank=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["chain", "tree_size"], name="audit_head_chain_size_uniq")]

    def __str__(self) -> str:
        return f"{self.chain}@{self.tree_size}"
