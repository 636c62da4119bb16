"""連携 on PostgreSQL: a gap-free feed under concurrent writers, and OAuth clients under row-level security."""

from __future__ import annotations

import threading
from datetime import date

import pytest
from django.db import connection
from django.test import Client

from lgcloud.core.tenancy import TenantContext
from lgcloud.linkage import queries
from lgcloud.linkage.actions import create_api_client
from lgcloud.registry import actions as registry

from .conftest import CHIYODA, SHINJUKU, Seed, committed_municipality

HACHIOJI = "132012"  # a third municipality of its own, so the committed rows touch no other test's counts


def _third_municipality() -> TenantContext:
    return committed_municipality(HACHIOJI)


def test_readers_never_see_a_gap_while_writers_commit_concurrently(seed: Seed, autocommit_db: None) -> None:
    """Each 異動 takes its sequence numbers inside its own transaction; the sequence row lock
    serialises commits, so a reader polling meanwhile only ever sees a gap-free prefix.
    (Rows are committed in a municipality no other test uses: append-only tables cannot be cleaned.)"""
    ctx = _third_municipality()
    start = queries.last_sequence(ctx)
    writers, per_writer = 3, 6
    expected = start + writers * per_writer * 2  # a person event and a household event per move-in
    errors: list[str] = []
    seen: list[int] = []
    done = threading.Event()

    def write(n: int) -> None:
        try:
            for i in range(per_writer):
                registry.register_move_in(
                    ctx,
                    persons=[
                        registry.NewPerson("並行", f"{n}-{i}", "ヘイコウ", "テスト", date(1990, 1, 1), "1", "head")
                    ],
                    address=f"東京都八王子市元本郷町{n}-{i}",
                    effective_date=date(2025, 1, 6),
                    filed_on=date(2025, 1, 6),
                    previous_address="",
                    confirm_duplicates=True,
                )
        except Exception as exc:  # noqa: BLE001 - reported by the assertion below
            errors.append(repr(exc))
        finally:
            connection.close()

    def read() -> None:
        cursor = start
        try:
            while cursor < expected and not (done.is_set() and errors):
                for row in queries.events_after(ctx, cursor, 1000):
                    if row.sequence != cursor + 1:
                        errors.append(f"gap: after {cursor} came {row.sequence}")
                    cursor = row.sequence
                    seen.append(row.sequence)
        finally:
            connection.close()

    threads = [threading.Thread(target=write, args=(n,)) for n in range(writers)]
    reader = threading.Thread(target=read)
    reader.start()
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    done.set()
    reader.join(timeout=120)
    assert errors == []
    assert seen == list(range(start + 1, expected + 1))


@pytest.mark.django_db
def test_an_oauth_client_reads_its_own_municipalitys_feed_under_rls(seed: Seed) -> None:
    issued = create_api_client(TenantContext.system(CHIYODA, purpose="test"), name="pg-client", scopes=["events:read"])
    token = Client().post(
        "/oauth/token/",
        {"grant_type": "client_credentials", "client_id": issued.client_id, "client_secret": issued.client_secret},
    )
    assert token.status_code == 200, token.content
    api = Client(headers={"Authorization": f"Bearer {token.json()['access_token']}"})
    feed = api.get(f"/api/v1/municipalities/{CHIYODA}/events", {"limit": 1000})
    assert feed.status_code == 200, feed.content
    events = feed.json()["events"]
    assert events and {e["municipality"] for e in events} == {CHIYODA}
    assert [e["sequence"] for e in events] == list(range(1, len(events) + 1))
    assert api.get(f"/api/v1/municipalities/{SHINJUKU}/events").status_code == 404


@pytest.mark.django_db
def test_the_seeded_moves_wait_as_pending_transfers_on_each_side(seed: Seed) -> None:
    for own, other in ((CHIYODA, SHINJUKU), (SHINJUKU, CHIYODA)):
        rows = queries.list_transfers(TenantContext.system(own, purpose="test"))
        assert [(t.source_lg_code, len(t.payload["persons"])) for t in rows] == [(other, 1)]
