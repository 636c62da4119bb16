"""Verification of the audit hash chains (``lgcloud audit_verify``)."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

from lgcloud.core.tenancy import TenantContext, bound

from .hashing import record_hash
from .models import GENESIS_HASH, PLATFORM_CHAIN, AuditChainHead, AuditRecord


@dataclass(frozen=True)
class ChainResult:
    chain: str
    records: int
    ok: bool
    bad_seq: int | None = None
    reason: str = ""


def verify_chain(lg_code: str | None) -> ChainResult:
    """Walk one chain in order and report the first record that does not fit."""
    chain = lg_code or PLATFORM_CHAIN
    ctx = TenantContext.system(lg_code, purpose="audit.verify")
    with bound(ctx):
        return _walk(chain)


def _walk(chain: str) -> ChainResult:
    expected_seq = 1
    prev_hash = GENESIS_HASH
    count = 0
    rows = AuditRecord.objects.filter(chain=chain).order_by("seq").iterator(chunk_size=2000)
    for row in rows:
        count += 1
        if row.seq != expected_seq:
            return ChainResult(
                chain, count, False, expected_seq, f"record #{expected_seq} is missing (next is #{row.seq})"
            )
        if row.prev_hash != prev_hash:
            return ChainResult(chain, count, False, row.seq, "prev_hash does not match the previous record")
        computed = record_hash(row)
        if computed != row.hash:
            return ChainResult(chain, count, False, row.seq, "contents do not match the record's hash (edited)")
        prev_hash = row.hash
        expected_seq += 1
    head = AuditChainHead.objects.filter(chain=chain).first()
    last_seq = expected_seq - 1
    if head is None:
        if count:
            return ChainResult(chain, count, False, 1, "the chain head is missing")
        return ChainResult(chain, 0, True)
    if head.last_seq != last_seq or head.last_hash != prev_hash:
        return ChainResult(
            chain, count, False, last_seq + 1, f"chain head says #{head.last_seq} but the log ends at #{last_seq}"
        )
    return ChainResult(chain, count, True)


def verify_all(lg_codes: list[str]) -> Iterator[ChainResult]:
    """The platform chain, then each municipality's chain."""
    yield verify_chain(None)
    for lg_code in lg_codes:
        yield verify_chain(lg_code)
