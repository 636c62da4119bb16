"""The audit log on PostgreSQL, as the app role: appends that never wait for each other, and a sealer
that seals every record exactly once while requests keep appending, late commits included.

The rows are committed (append-only tables cannot be cleaned), in municipalities of their own.
"""

from __future__ import annotations

import random
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager

from django.db import connection

from lgcloud.audit.actions import record
from lgcloud.audit.sealer import Sealer, seal_pending
from lgcloud.audit.verify import verify_chain
from lgcloud.core.tenancy import TenantContext, bound

from .conftest import RawConnection, Seed, committed_municipality

TACHIKAWA, MUSASHINO = "132021", "132039"


def _append(ctx: TenantContext, what: str) -> int:
    with bound(ctx):
        return record(ctx, what, subject_type="person", subject_id="0000000001").pk


def _seq(superuser_db: RawConnection, record_id: int) -> int | None:
    row = superuser_db.execute("SELECT seq FROM audit_auditseal WHERE record_id = %s", [record_id]).fetchone()
    return None if row is None else int(row[0])


def _held_append(ctx: TenantContext, ids: list[int], appended: threading.Event, release: threading.Event) -> None:
    try:
        with bound(ctx):
            ids.append(record(ctx, "test.slow", subject_type="person", subject_id="0000000001").pk)
            appended.set()
            assert release.wait(30)
    finally:
        connection.close()


@contextmanager
def _slow_request(ctx: TenantContext) -> Iterator[list[int]]:
    """A request that appends a record and keeps its transaction open until the block ends; yields its id."""
    held: list[int] = []
    appended, release = threading.Event(), threading.Event()
    slow = threading.Thread(target=_held_append, args=(ctx, held, appended, release))
    slow.start()
    try:
        assert appended.wait(30)
        yield held
    finally:
        release.set()
        slow.join(30)


def test_appends_of_one_municipality_never_wait_for_each_other(seed: Seed, autocommit_db: None) -> None:
    ctx = committed_municipality(TACHIKAWA)
    with _slow_request(ctx):
        started = time.monotonic()
        with bound(ctx):
            with connection.cursor() as cursor:
                cursor.execute("SET LOCAL lock_timeout = '2s'")  # a wait for the slow request would fail here
            record(ctx, "test.fast", subject_type="person", subject_id="0000000001")
        assert time.monotonic() - started < 1.0


def test_a_late_commit_with_a_lower_id_is_sealed_in_a_later_batch(
    seed: Seed, autocommit_db: None, superuser_db: RawConnection
) -> None:
    ctx = committed_municipality(TACHIKAWA)
    seal_pending()
    worker = Sealer()
    with _slow_request(ctx) as held:
        fast = _append(ctx, "test.fast")
        assert held[0] < fast  # the slow request took its id first …
        assert worker.run_once().sealed.get(TACHIKAWA) == 1
        fast_seq = _seq(superuser_db, fast)
        assert fast_seq is not None and _seq(superuser_db, held[0]) is None  # … and commits later
    assert worker.run_once().sealed.get(TACHIKAWA) == 1  # the running worker finds it by its transaction
    assert _seq(superuser_db, held[0]) == fast_seq + 1
    assert verify_chain(TACHIKAWA).ok


def test_a_restarted_sealer_finds_a_late_commit_from_the_stored_watermark(
    seed: Seed, autocommit_db: None, superuser_db: RawConnection
) -> None:
    ctx = committed_municipality(TACHIKAWA)
    seal_pending()
    with _slow_request(ctx) as held:
        _append(ctx, "test.fast")
        assert seal_pending().sealed.get(TACHIKAWA) == 1
    # A new process: no memory of the last pass but the watermark stored with its tree heads.
    assert Sealer().run_once().sealed.get(TACHIKAWA) == 1
    assert _seq(superuser_db, held[0]) is not None
    assert verify_chain(TACHIKAWA).ok


def test_records_appended_while_sealers_run_are_each_sealed_exactly_once(
    seed: Seed, autocommit_db: None, superuser_db: RawConnection
) -> None:
    """Writers in several threads (transactions of 1–3 records, some held open a while) and two sealers at once."""
    contexts = [committed_municipality(TACHIKAWA), committed_municipality(MUSASHINO)]
    seal_pending()
    before = {
        code: int(superuser_db.execute("SELECT count(*) FROM audit_auditrecord WHERE chain = %s", [code]).fetchone()[0])
        for code in (TACHIKAWA, MUSASHINO)
    }
    writers, transactions = 6, 25
    written: list[int] = []
    errors: list[str] = []
    lock = threading.Lock()
    writing_done = threading.Event()

    def write(n: int) -> None:
        rng = random.Random(n)  # noqa: S311 - a reproducible mix of transactions, not a secret
        try:
            for _ in range(transactions):
                ctx = contexts[rng.randrange(2)]
                with bound(ctx):
                    ids = [record(ctx, "test.concurrent").pk for _ in range(rng.randint(1, 3))]
                    time.sleep(rng.choice([0, 0, 0.002, 0.02, 0.15]))  # the sealer passes meanwhile
                with lock:
                    written.extend(ids)
        except Exception as exc:  # noqa: BLE001 - reported by the assertion below
            errors.append(f"writer {n}: {exc!r}")
        finally:
            connection.close()

    def seal(name: str) -> None:
        worker = Sealer(limit=50)
        try:
            while not writing_done.is_set():
                done = worker.run_once()
                if done.refused:
                    errors.append(f"{name}: refused {done.refused}")
                time.sleep(0.01)
        except Exception as exc:  # noqa: BLE001 - reported by the assertion below
            errors.append(f"{name}: {exc!r}")
        finally:
            connection.close()

    threads = [threading.Thread(target=write, args=(n,)) for n in range(writers)]
    sealers = [threading.Thread(target=seal, args=(f"sealer {i}",)) for i in range(2)]
    for t in [*sealers, *threads]:
        t.start()
    for t in threads:
        t.join(120)
    writing_done.set()
    for t in sealers:
        t.join(120)
    seal_pending()
    assert errors == []
    assert len(written) == len(set(written)) >= writers * transactions

    for code in (TACHIKAWA, MUSASHINO):
        total = int(
            superuser_db.execute("SELECT count(*) FROM audit_auditrecord WHERE chain = %s", [code]).fetchone()[0]
        )
        seqs = [
            int(r[0])
            for r in superuser_db.execute("SELECT seq FROM audit_auditseal WHERE chain = %s ORDER BY seq", [code])
        ]
        assert seqs == list(range(1, total + 1)), code  # every record once, no gap, no double
        assert total > before[code]
        head = superuser_db.execute(
            "SELECT max(tree_size) FROM audit_audittreehead WHERE chain = %s", [code]
        ).fetchone()
        assert head is not None and head[0] == total
        result = verify_chain(code)
        assert result.ok and result.unsealed == 0, result
    unsealed = superuser_db.execute(
        "SELECT count(*) FROM audit_auditrecord r WHERE r.id = ANY(%s)"
        " AND NOT EXISTS (SELECT 1 FROM audit_auditseal s WHERE s.record_id = r.id)",
        [written],
    ).fetchone()
    assert unsealed == (0,)


def test_the_sealer_lag_is_measured_under_row_level_security(seed: Seed, autocommit_db: None) -> None:
    from lgcloud.audit.sealer import seal_lag

    ctx = committed_municipality(MUSASHINO)
    seal_pending()
    assert seal_lag().total_seconds() == 0
    _append(ctx, "test.lag")
    time.sleep(0.3)
    assert seal_lag().total_seconds() >= 0.3
    seal_pending()
    assert seal_lag().total_seconds() == 0
