"""Tenant placement with two local PostgreSQL clusters: routing by the tenant directory, the write
freeze, and a move of one municipality between clusters (portability export → import → verify → switch).

Everything runs as in production: both clusters migrated as their owner, the app (gunicorn) as the
app role under row-level security, with ``LGCLOUD_TENANT_CLUSTERS`` naming the second cluster.
"""

from __future__ import annotations

import http.client
import json
import sys
import uuid
from pathlib import Path
from typing import Any

import psycopg
import pytest

from tests.failover.drill import BIN, HOST, _env, _run, gunicorn
from tests.pg_cluster import create_lgcloud_database, throwaway_cluster

pytestmark = pytest.mark.postgres

A, B = "131016", "131041"  # 千代田区 on the default cluster, 新宿区 placed on c2


def _call(port: int, token: str, method: str, path: str, body: Any = None) -> tuple[int, dict[str, str], Any]:
    conn = http.client.HTTPConnection(HOST, port, timeout=60)
    try:
        headers = {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}
        if method == "POST":
            headers["Idempotency-Key"] = str(uuid.uuid4())
        conn.request(method, path, json.dumps(body, ensure_ascii=False).encode() if body else None, headers)
        r = conn.getresponse()
        raw = r.read()
        return r.status, {k.lower(): v for k, v in r.getheaders()}, json.loads(raw) if raw else None
    finally:
        conn.close()


def _move_in(port: int, token: str, lg: str, family: str) -> list[str]:
    body = {
        "persons": [
            {
                "family_name": family,
                "given_name": "太郎",
                "family_name_kana": "テスト",
                "given_name_kana": "タロウ",
                "birth_date": "1980-04-01",
                "sex": "1",
                "relationship": "head",
                "individual_number": "621498320257",
            }
        ],
        "address": "東京都テスト区一丁目1番1号",
        "effective_date": "2025-04-01",
        "filed_on": "2025-04-02",
        "previous_address": "大阪府大阪市北区梅田一丁目1番1号",
        "confirm_duplicates": True,
    }
    status, _, answer = _call(port, token, "POST", f"/api/v1/municipalities/{lg}/changes/move-in", body)
    assert status == 201, answer
    return list(answer["atena_numbers"])


def _persons(superuser_url: str) -> dict[str, int]:
    with psycopg.connect(superuser_url) as conn:
        rows = conn.execute("SELECT municipality_id, count(*) FROM registry_person GROUP BY 1").fetchall()
    return {str(k): int(v) for k, v in rows}


def test_the_directory_routes_each_municipality_to_its_cluster_and_a_move_keeps_its_register(
    tmp_path: Path,
) -> None:
    with throwaway_cluster() as c1, throwaway_cluster() as c2:
        one, two = create_lgcloud_database(c1, "lgcloud"), create_lgcloud_database(c2, "lgcloud")
        env = _env(
            one.app_url,
            tmp_path / "var",
            LGCLOUD_TENANT_CLUSTERS=json.dumps({"c2": two.app_url}),
            LGCLOUD_TENANT_DIRECTORY_TTL="0.2",
        )
        lgcloud = str(BIN / "lgcloud")
        _run([lgcloud, "migrate", "--no-input", "-v", "0"], {**env, "LGCLOUD_MIGRATE_DATABASE_URL": one.owner_url})
        owner_env = {**env, "LGCLOUD_TENANT_CLUSTERS": json.dumps({"c2": two.owner_url})}
        _run([lgcloud, "migrate", "--database", "c2", "--no-input", "-v", "0"], owner_env)
        tokens = json.loads(_run([sys.executable, "-m", "tests.placement.seed", A, B], env))
        assert "131041 c2" in _run([lgcloud, "tenant_directory"], env)

        with gunicorn(env, tmp_path / "gunicorn.log", workers=2, threads=2) as port:
            a_people = _move_in(port, tokens[A], A, "千代田")
            b_people = _move_in(port, tokens[B], B, "新宿")
            # Each register is on its own cluster only (read as the superuser, outside RLS).
            assert _persons(one.superuser_url) == {A: 1}
            assert _persons(two.superuser_url) == {B: 1}
            b_path = f"/api/v1/municipalities/{B}/persons/{b_people[0]}"
            status, _, before = _call(port, tokens[B], "GET", b_path)
            assert status == 200 and before["family_name"] == "新宿"
            assert _call(port, tokens[A], "GET", f"/api/v1/municipalities/{A}/persons/{a_people[0]}")[0] == 200
            # A municipality's staff still sees only its own municipality.
            assert _call(port, tokens[A], "GET", b_path)[0] == 404

            # The freeze: B's writes are refused, its reads and A's writes go on.
            _run([lgcloud, "tenant_directory", "--freeze", B], env)
            import time

            time.sleep(0.5)  # the workers' directory cache (TTL 0.2 s)
            status, headers, problem = _call(port, tokens[B], "POST", f"/api/v1/municipalities/{B}/changes/move-in", {})
            assert (status, problem["code"], headers["retry-after"]) == (503, "tenant_moving", "60")
            assert _call(port, tokens[B], "GET", b_path)[0] == 200
            _move_in(port, tokens[A], A, "千代田")
            _run([lgcloud, "tenant_directory", "--unfreeze", B], env)

            # The move: B's register from c2 to the default cluster, verified, then switched.
            out = _run([lgcloud, "tenant_move", B, "--to", "default"], env)
            assert "verified:" in out and "identical (SHA-256)" in out, out
            assert "131041 default" in _run([lgcloud, "tenant_directory"], env)
            time.sleep(0.5)
            assert _persons(one.superuser_url) == {A: 2, B: 1}
            status, _, after = _call(port, tokens[B], "GET", b_path)
            assert status == 200
            assert after == before  # the same 住民票, now read from the other cluster
            # New writes for B land on the default cluster; c2 keeps its old copy untouched.
            _move_in(port, tokens[B], B, "新宿")
            assert _persons(one.superuser_url) == {A: 2, B: 2}
            assert _persons(two.superuser_url) == {B: 1}
