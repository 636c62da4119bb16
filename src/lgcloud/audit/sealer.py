"""The sealer: links appended audit records into each chain's Merkle tree, in batches, and signs tree heads.

Requests append records without waiting for each other (``audit.actions.record``); ``lgcloud
audit_seal`` runs :class:`Sealer` about once a second (tests and ``--once`` call
:func:`seal_pending`). One pass, on each database cluster, is one transaction in the audit
sealer's scope (it sees every chain's audit rows and nothing else):

1. on PostgreSQL, the sealers' advisory lock: a second sealer skips the pass instead of
   racing the first (the unique constraints would refuse its rows anyway);
2. the snapshot: which transactions were still running now (PostgreSQL's
   ``pg_current_snapshot()``);
3. the records no seal names, among those written by transactions that were running, or
   had not started, at the previous pass (the *watermark*). A record whose transaction took
   a low id and commits late is found by its transaction id and sealed in this batch or a
   later one: nobody waits for a gap. On SQLite commits are serial (``BEGIN IMMEDIATE``), so
   the record id is the watermark. With no watermark (the first pass ever), every record;
4. per chain, in id order: ``seq`` = tree size + 1, the leaf hash of its entry
   (``audit.hashing``), the subtree roots it completes, and one signed tree head (C2SP
   checkpoint) per chain per pass. Before appending, the stored frontier must fold to the
   last tree head's root: a tree altered in the database is never signed over (that chain
   stops and the pass reports it; the lag then grows and the operator is alerted).

The watermark goes into each tree head the pass writes, so a restarted sealer resumes there.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from itertools import groupby

from django.db import connections
from django.db.models import Exists, Min, OuterRef, Q, QuerySet
from django.utils import timezone

from lgcloud.core import placement
from lgcloud.core.tenancy import audit_sealer_scope

from . import merkle
from .checkpoint import Checkpoint
from .hashing import entry, entry_leaf
from .keys import origin, signer
from .models import AuditRecord, AuditSeal, AuditTreeHead
from .tree import TreeError, frontier_hashes, latest_head

logger = logging.getLogger(__name__)

# pg_try_advisory_xact_lock key of the sealers (b"lgaudit" as an integer); only sealers take it.
SEALER_LOCK = int.from_bytes(b"lgaudit", "big")
PASS_LIMIT = 20_000


@dataclass(frozen=True)
class Watermark:
    """Records with ``key >= horizon`` or written by a transaction in ``running`` may not have been seen."""

    horizon: int
    running: tuple[int, ...] = ()

    def encode(self) -> str:
        return f"{self.horizon}:{','.join(map(str, self.running))}"

    @classmethod
    def decode(cls, text: str) -> Watermark | None:
        horizon, sep, running = text.partition(":")
        if not sep or not horizon.isdigit():
            return None
        return cls(int(horizon), tuple(int(x) for x in running.split(",") if x))


@dataclass
class SealPass:
    sealed: dict[str, int] = field(default_factory=dict)  # chain -> records sealed
    refused: dict[str, str] = field(default_factory=dict)  # chain -> why it was not sealed
    full: bool = False  # stopped at the limit: run again at once
    busy: bool = False  # another sealer held the lock

    @property
    def total(self) -> int:
        return sum(self.sealed.values())

    def merge(self, other: SealPass) -> None:
        for chain, n in other.sealed.items():
            self.sealed[chain] = self.sealed.get(chain, 0) + n
        self.refused.update(other.refused)
        self.full |= other.full
        self.busy |= other.busy


def _postgres(alias: str) -> bool:
    return connections[alias].vendor == "postgresql"


def _snapshot(alias: str) -> Watermark:
    """Now, as a watermark: the next transaction id and the ones still running (PostgreSQL)."""
    with connections[alias].cursor() as cursor:
        cursor.execute("SELECT pg_current_snapshot()::text")
        _xmin, xmax, running = str(cursor.fetchone()[0]).split(":")
    return Watermark(int(xmax), tuple(int(x) for x in running.split(",") if x))


def _stored_watermark() -> Watermark | None:
    last = AuditTreeHead.objects.order_by("-id").values_list("watermark", flat=True).first()
    return Watermark.decode(last) if last else None


def _unsealed(alias: str, watermark: Watermark | None) -> QuerySet[AuditRecord]:
    qs = AuditRecord.objects.filter(~Exists(AuditSeal.objects.filter(chain=OuterRef("chain"), record=OuterRef("pk"))))
    if watermark is not None:
        key = "txid" if _postgres(alias) else "id"
        seen_after = Q(**{f"{key}__gte": watermark.horizon})
        if watermark.running:
            seen_after |= Q(**{f"{key}__in": watermark.running})
        qs = qs.filter(seen_after)
    return qs


class Sealer:
    """Keeps each cluster's watermark between passes (a worker runs one for its lifetime)."""

    def __init__(self, limit: int = PASS_LIMIT) -> None:
        self.limit = limit
        self.watermarks: dict[str, Watermark | None] = {}

    def run_once(self) -> SealPass:
        done = SealPass()
        for alias in placement.clusters():
            done.merge(self._seal_cluster(alias))
        return done

    def _seal_cluster(self, alias: str) -> SealPass:
        done = SealPass()
        with placement.using(alias), audit_sealer_scope():
            postgres = _postgres(alias)
            if postgres:
                with connections[alias].cursor() as cursor:
                    cursor.execute("SELECT pg_try_advisory_xact_lock(%s)", [SEALER_LOCK])
                    if not cursor.fetchone()[0]:
                        done.busy = True
                        return done
                now = _snapshot(alias)
            if alias not in self.watermarks:
                self.watermarks[alias] = _stored_watermark()
            previous = self.watermarks[alias]
            records = list(_unsealed(alias, previous).order_by("id")[: self.limit])
            done.full = len(records) >= self.limit
            if not postgres:
                # Commits are serial: nothing below the highest id seen can still appear.
                highest = max((r.pk for r in records), default=None)
                now = Watermark(highest + 1) if highest is not None else previous or Watermark(0)
            chains = [(chain, list(group)) for chain, group in groupby(sorted(records, key=_chain_order), _chain)]
            trees: dict[str, merkle.Appender] = {}
            for chain, _ in chains:
                try:
                    trees[chain] = _tree(chain)
                except TreeError as exc:
                    done.refused[chain] = str(exc)
                    logger.error("audit sealer: chain %s not sealed: %s", chain, exc)
            # The next pass starts from now only if this one saw and sealed everything up to now.
            advance = not done.full and not done.refused
            keep = now if advance else previous
            for chain, group in chains:
                if chain in trees:
                    _append(chain, trees[chain], group, keep)
                    done.sealed[chain] = len(group)
            self.watermarks[alias] = keep
        return done


def _tree(chain: str) -> merkle.Appender:
    """The chain's tree as of its last signed head, checked against that head's root."""
    head = latest_head(chain)
    if head is None:
        if AuditSeal.objects.filter(chain=chain).exists():
            raise TreeError("seals exist but no signed tree head does")
        return merkle.Appender(0, [])
    frontier = frontier_hashes(chain, head.tree_size)
    if merkle.fold(frontier).hex() != head.root_hash:
        raise TreeError(f"the stored tree does not fold to the signed root of size {head.tree_size}")
    return merkle.Appender(head.tree_size, frontier)


def _append(chain: str, tree: merkle.Appender, records: list[AuditRecord], watermark: Watermark | None) -> None:
    seals = []
    for r in records:
        seq = tree.size + 1
        leaf = merkle.leaf_hash(entry_leaf(entry(r, seq)))
        completed = tree.append(leaf)
        seals.append(
            AuditSeal(
                municipality_id=r.municipality_id,
                chain=chain,
                seq=seq,
                record_id=r.pk,
                leaf_hash=leaf.hex(),
                nodes="".join(h.hex() for h in completed),
            )
        )
    # A concurrent sealer (or a seal row forged past the head) hits the unique (chain, seq)
    # constraint here and the whole pass rolls back: nothing is sealed twice.
    AuditSeal.objects.bulk_create(seals, batch_size=2000)
    key = signer()
    root = tree.root()
    AuditTreeHead.objects.create(
        municipality_id=records[0].municipality_id,
        chain=chain,
        tree_size=tree.size,
        root_hash=root.hex(),
        signed_at=timezone.now(),
        checkpoint=key.sign(Checkpoint(origin(chain), tree.size, root).text()),
        verifier_key=key.verifier.encode(),
        watermark=watermark.encode() if watermark else "",
    )


def _chain(r: AuditRecord) -> str:
    return r.chain


def _chain_order(r: AuditRecord) -> tuple[str, int]:
    return (r.chain, r.pk)


def seal_pending(limit: int = PASS_LIMIT) -> SealPass:
    """Seal everything there is to seal now (passes until one is not full); for tests and ``--once``."""
    sealer = Sealer(limit)
    done = sealer.run_once()
    while done.full and not done.refused and not done.busy:
        more = sealer.run_once()
        done.merge(more)
        done.full = more.full
    return done


def oldest_unsealed() -> datetime | None:
    """When the oldest record still waiting for its seal was written (None: none waits), on any cluster."""
    oldest: datetime | None = None
    for alias in placement.clusters():
        with placement.using(alias), audit_sealer_scope():
            found = _unsealed(alias, _stored_watermark()).aggregate(oldest=Min("occurred_at"))["oldest"]
        if found is not None and (oldest is None or found < oldest):
            oldest = found
    return oldest


def seal_lag() -> timedelta:
    """The age of the oldest unsealed record (zero when every record is sealed)."""
    oldest = oldest_unsealed()
    return max(timezone.now() - oldest, timedelta(0)) if oldest else timedelta(0)
