"""The failover drill as a test: SIGKILL the primary under write load; no acknowledged 異動 lost, none doubled.

See drill.py for what runs. ``make drill`` runs a larger one and writes a report.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from .drill import run

pytestmark = pytest.mark.postgres


def test_no_acknowledged_write_is_lost_or_doubled_when_the_primary_dies(tmp_path: Path) -> None:
    report = run(requests=120, clients=6, workers=3, threads=2, work_dir=tmp_path)
    print("\n" + report.markdown())
    assert report.acknowledged == report.requests, report.final_errors
    assert report.lost_acknowledged == []  # RPO 0
    assert report.duplicates == {}
    assert report.births_in_db == report.requests  # each request once, however often it was sent
    assert report.wrong_change_number == []
    # Every answer the client threw away came back as a replay of the same answer.
    assert report.dropped > 0
    assert report.dropped_replayed_same == report.dropped
    # The failover happened: another site is primary, writes were refused meanwhile and retried,
    # and the new primary replicates synchronously to the remaining standby.
    assert report.new_primary in {"west", "west2"}
    assert report.failed_attempts > 0
    assert report.replication_after and all(state == "sync" for _, _, state in report.replication_after)
    assert report.standby_has_all
