"""Failover drill: kill the primary under write load, promote a standby, lose no acknowledged 異動.

What runs, all on loopback:

- PostgreSQL 15 at three "sites" built by ``deploy/pg-sites.sh`` (the operators'
  script, exercised here as it is in production): primary ``east``, standbys
  ``west`` and ``west2`` with ``synchronous_commit = on`` and
  ``synchronous_standby_names = 'ANY 1 (west, west2)'``; fsync on;
- the app on gunicorn (several workers, pooled connections) with a multi-host
  ``LGCLOUD_DATABASE_URL`` (east, west, west2; ``target_session_attrs=read-write``);
- clients sending N 出生 (births) through the API, each with its own
  ``Idempotency-Key`` and a given name no other request uses; a client retries a
  request (same key, same body) after any 5xx or broken connection until it is
  acknowledged (201). Every tenth request also throws away its first
  acknowledgement, as if the answer were lost on the way, and retries.

Midway the primary is SIGKILLed (the postmaster and its backends: the site is
gone) and ``pg-sites.sh promote`` promotes the furthest standby and re-points the
other to it. Then, read from the new primary as the superuser:

- RPO: every acknowledged birth is there, with the change number it was
  acknowledged with;
- no duplicates: each request's name appears at most once, however many times it
  was sent; each key has at most one 異動;
- retries whose acknowledgement was lost came back ``Idempotent-Replayed`` with
  the first answer;
- RTO: from the kill to the first write acknowledged afterwards.

``make drill`` runs it and writes a report to bench/results/; tests/failover runs
it as a test.
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import secrets
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import psycopg
from psycopg import sql

ROOT = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent
SCRIPT = ROOT / "deploy" / "pg-sites.sh"
HOST = "127.0.0.1"
LG_CODE = "131016"
DATABASE = "lgcloud"
DIGITS = "〇一二三四五六七八九"
# Small buffers: three servers share a 2-core test machine.
EXTRA_CONF = "shared_buffers = 64MB\nmax_connections = 60\n"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind((HOST, 0))
        return int(s.getsockname()[1])


def name_token(n: int) -> str:
    """A given name no other request uses: 訓 + the request number in kanji digits."""
    return "訓" + "".join(DIGITS[int(d)] for d in f"{n:04d}")


@dataclass
class Sites:
    """The three sites run by deploy/pg-sites.sh in ``base``."""

    base: Path
    ports: dict[str, int]

    def env(self) -> dict[str, str]:
        env = dict(os.environ)
        env["LGCLOUD_PG_SITES_DIR"] = str(self.base)
        return env

    def script(self, *args: str, extra: dict[str, str] | None = None) -> str:
        done = subprocess.run(
            [str(SCRIPT), *args],
            env={**self.env(), **(extra or {})},
            capture_output=True,
            text=True,
            check=False,
            timeout=180,
        )
        if done.returncode != 0:
            raise RuntimeError(f"pg-sites.sh {' '.join(args)} failed:\n{done.stdout}\n{done.stderr}")
        return done.stdout + done.stderr

    def connect(self, site: str, database: str = "postgres") -> psycopg.Connection[Any]:
        """The superuser over the site's Unix socket: outside RLS, the ground truth."""
        return psycopg.connect(
            host=str(self.base / "run"), port=self.ports[site], user="postgres", dbname=database, autocommit=True
        )

    def primary(self) -> str:
        return (self.base / "primary").read_text().strip()

    def url(self, user: str, password: str) -> str:
        hosts = ",".join(f"{HOST}:{self.ports[s]}" for s in ("east", "west", "west2"))
        return f"postgresql://{user}:{password}@{hosts}/{DATABASE}?target_session_attrs=read-write&connect_timeout=2"


@contextmanager
def sites() -> Iterator[Sites]:
    base = Path(tempfile.mkdtemp(prefix="lgcloud-sites-"))
    ports = {"east": _free_port(), "west": _free_port(), "west2": _free_port()}
    s = Sites(base, ports)
    extra = base.parent / f"{base.name}.conf"
    extra.write_text(EXTRA_CONF)
    try:
        s.script(
            "init",
            extra={
                "REPLICATION_PASSWORD": secrets.token_hex(16),
                "EAST_PORT": str(ports["east"]),
                "WEST_PORT": str(ports["west"]),
                "WEST2_PORT": str(ports["west2"]),
                "LGCLOUD_PG_EXTRA_CONF": str(extra),
            },
        )
        yield s
    finally:
        subprocess.run([str(SCRIPT), "destroy"], env=s.env(), capture_output=True, check=False, timeout=120)
        extra.unlink(missing_ok=True)
        shutil.rmtree(base, ignore_errors=True)


def create_database(s: Sites) -> tuple[str, str]:
    """The owner and app roles and the database, as production has them; returns (owner URL, app URL)."""
    owner_pw, app_pw = secrets.token_hex(16), secrets.token_hex(16)
    with s.connect("east") as conn:
        conn.execute(
            sql.SQL("CREATE ROLE lgcloud_owner LOGIN PASSWORD {} NOSUPERUSER NOBYPASSRLS").format(sql.Literal(owner_pw))
        )
        conn.execute(
            sql.SQL("CREATE ROLE lgcloud_app LOGIN PASSWORD {} NOSUPERUSER NOBYPASSRLS").format(sql.Literal(app_pw))
        )
        conn.execute(sql.SQL("CREATE DATABASE {} OWNER lgcloud_owner").format(sql.Identifier(DATABASE)))
        conn.execute(sql.SQL("REVOKE ALL ON DATABASE {} FROM PUBLIC").format(sql.Identifier(DATABASE)))
        conn.execute(sql.SQL("GRANT CONNECT ON DATABASE {} TO lgcloud_app").format(sql.Identifier(DATABASE)))
    return s.url("lgcloud_owner", owner_pw), s.url("lgcloud_app", app_pw)


def _env(app_url: str, var_dir: Path, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("LGCLOUD_", "DJANGO_"))}
    env.update(
        {
            "LGCLOUD_ENV": "development",
            "LGCLOUD_VAR_DIR": str(var_dir),
            "LGCLOUD_DATABASE_URL": app_url,
            "DJANGO_SETTINGS_MODULE": "tests.settings",
            "PYTHONPATH": os.pathsep.join([str(ROOT / "src"), str(ROOT)]),
            "LGCLOUD_LOG_LEVEL": "ERROR",
        }
    )
    env.update(extra)
    return env


def _run(args: list[str], env: dict[str, str]) -> str:
    done = subprocess.run(args, cwd=ROOT, env=env, capture_output=True, text=True, check=False, timeout=600)
    if done.returncode != 0:
        raise RuntimeError(f"{' '.join(args[:3])} failed:\n{done.stdout[-3000:]}\n{done.stderr[-3000:]}")
    return done.stdout


def _healthy(port: int) -> bool:
    conn = http.client.HTTPConnection(HOST, port, timeout=5)
    try:
        conn.request("GET", "/healthz")
        return conn.getresponse().status == 200
    except OSError:
        return False
    finally:
        conn.close()


@contextmanager
def gunicorn(env: dict[str, str], log: Path, workers: int, threads: int) -> Iterator[int]:
    port = _free_port()
    args = [str(BIN / "gunicorn"), "-c", str(ROOT / "deploy" / "gunicorn.conf.py"), "lgcloud.wsgi:application"]
    env = {
        **env,
        "LGCLOUD_BIND": f"{HOST}:{port}",
        "LGCLOUD_WORKERS": str(workers),
        "LGCLOUD_THREADS": str(threads),
        "LGCLOUD_DB_CONN_MAX_AGE": "60",
    }
    with log.open("wb") as out:
        server = subprocess.Popen(args, cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT)
        try:
            deadline = time.monotonic() + 180  # workers import Django: slow on a busy 2-core machine
            while not _healthy(port):
                if server.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError(f"gunicorn did not come up:\n{log.read_text(errors='replace')[-3000:]}")
                time.sleep(0.2)
            yield port
        finally:
            server.terminate()
            try:
                server.wait(timeout=20)
            except subprocess.TimeoutExpired:
                server.kill()
                server.wait()


@dataclass
class Request:
    n: int
    key: str
    body: dict[str, Any]
    drop_first_ack: bool
    attempts: list[tuple[float, float, str]] = field(default_factory=list)  # (start, end, outcome)
    dropped_answer: dict[str, Any] | None = None
    answer: dict[str, Any] | None = None
    replayed: bool = False
    acked_at: float = 0.0
    ack_started: float = 0.0  # when the acknowledged attempt was sent
    final_error: str = ""

    @property
    def token(self) -> str:
        return str(self.body["person"]["given_name"])


def _post(port: int, token: str, path: str, key: str, body: dict[str, Any]) -> tuple[int, dict[str, str], bytes]:
    conn = http.client.HTTPConnection(HOST, port, timeout=60)
    try:
        payload = json.dumps(body, ensure_ascii=False).encode()
        headers = {"Authorization": f"Bearer {token}", "Content-Type": "application/json", "Idempotency-Key": key}
        conn.request("POST", path, payload, headers)
        response = conn.getresponse()
        return response.status, {k.lower(): v for k, v in response.getheaders()}, response.read()
    finally:
        conn.close()


def _send(port: int, token: str, r: Request, deadline: float, acked: threading.Semaphore) -> None:
    path = f"/api/v1/municipalities/{LG_CODE}/changes/birth"
    while time.monotonic() < deadline:
        started = time.monotonic()
        try:
            status, headers, body = _post(port, token, path, r.key, r.body)
        except (OSError, http.client.HTTPException) as exc:
            r.attempts.append((started, time.monotonic(), type(exc).__name__))
            time.sleep(0.1)
            continue
        ended = time.monotonic()
        if status == 201:
            answer = json.loads(body)
            if r.drop_first_ack and r.dropped_answer is None:
                r.dropped_answer = answer  # "lost on the way": the client never saw it
                r.attempts.append((started, ended, "201 (answer dropped)"))
                continue
            r.attempts.append((started, ended, "201"))
            r.answer, r.replayed = answer, headers.get("idempotent-replayed") == "true"
            r.acked_at, r.ack_started = ended, started
            acked.release()
            return
        r.attempts.append((started, ended, str(status)))
        if status < 500:
            r.final_error = f"{status} {body[:300]!r}"
            return
        time.sleep(0.1)
    r.final_error = "gave up at the deadline"


@dataclass
class Report:
    requests: int
    acknowledged: int
    lost_acknowledged: list[str]
    duplicates: dict[str, int]
    wrong_change_number: list[str]
    final_errors: list[str]
    dropped: int
    dropped_replayed_same: int
    replayed_total: int
    retried_after_failure: int
    failed_attempts: int
    rto_seconds: float
    promote_seconds: float
    kill_at_ack: int
    new_primary: str
    replication_after: list[tuple[str, str, str]]
    standby_has_all: bool
    persons_in_db: int
    births_in_db: int
    wall_seconds: float
    workers: int
    threads: int
    clients: int

    @property
    def ok(self) -> bool:
        return (
            not self.lost_acknowledged
            and not self.duplicates
            and not self.wrong_change_number
            and not self.final_errors
            and self.acknowledged == self.requests
            and self.dropped_replayed_same == self.dropped
            and self.births_in_db == self.requests
            and self.standby_has_all
        )

    def markdown(self) -> str:
        lines = [
            f"- requests (出生 through the API, each with its own Idempotency-Key): **{self.requests}**, "
            f"{self.clients} clients, gunicorn {self.workers} workers × {self.threads} threads",
            f"- primary SIGKILLed after {self.kill_at_ack} acknowledgements; promoted: **{self.new_primary}** "
            f"(`pg-sites.sh promote` took {self.promote_seconds:.2f} s, re-pointing the other standby included)",
            f"- acknowledged: **{self.acknowledged}/{self.requests}**; acknowledged but missing on the new primary: "
            f"**{len(self.lost_acknowledged)}** (RPO 0 if 0)",
            f"- **RTO {self.rto_seconds:.2f} s**: from the kill to the first acknowledgement of a write sent after it "
            "(detection is immediate in the drill; add the monitor's detection time in production)",
            f"- attempts that failed (5xx or broken connection) and were retried: {self.failed_attempts}, "
            f"over {self.retried_after_failure} requests",
            f"- answers deliberately dropped by the client and retried: {self.dropped}; "
            f"replayed with the same change number: {self.dropped_replayed_same}",
            f"- replayed answers in total (`Idempotent-Replayed: true`): {self.replayed_total}",
            f"- births in the database: {self.births_in_db}; names appearing more than once: {len(self.duplicates)}",
            f"- change numbers that differ from the acknowledgement: {len(self.wrong_change_number)}",
            f"- replication on the new primary afterwards: {self.replication_after}; "
            f"the remaining standby has every birth: {self.standby_has_all}",
            f"- wall time of the write phase: {self.wall_seconds:.1f} s",
        ]
        return "\n".join(lines)


def run(
    requests: int = 200, clients: int = 8, workers: int = 3, threads: int = 2, work_dir: Path | None = None
) -> Report:
    work = Path(tempfile.mkdtemp(prefix="lgcloud-drill-")) if work_dir is None else work_dir
    try:
        return _run_drill(work, requests, clients, workers, threads)
    finally:
        if work_dir is None:
            shutil.rmtree(work, ignore_errors=True)


def _run_drill(work: Path, n: int, clients: int, workers: int, threads: int) -> Report:
    with sites() as s:
        owner_url, app_url = create_database(s)
        env = _env(app_url, work / "var")
        _run(
            [str(BIN / "lgcloud"), "migrate", "--no-input", "-v", "0"],
            {**env, "LGCLOUD_MIGRATE_DATABASE_URL": owner_url},
        )
        seed = json.loads(_run([sys.executable, "-m", "tests.failover.seed", LG_CODE, "8"], env))
        households: list[str] = seed["households"]
        reqs = [
            Request(
                n=i,
                key=str(uuid.uuid4()),
                body={
                    "household_number": households[i % len(households)],
                    "person": {
                        "family_name": "訓練",
                        "given_name": name_token(i),
                        "family_name_kana": "クンレン",
                        "given_name_kana": "クン",
                        "birth_date": "2026-11-01",
                        "sex": "1" if i % 2 else "2",
                        "relationship": "child",
                    },
                    "filed_on": "2026-11-10",
                },
                drop_first_ack=i % 10 == 3,
            )
            for i in range(n)
        ]
        kill_after = n // 2
        acked = threading.Semaphore(0)
        killed: dict[str, float] = {}

        def killer() -> None:
            for _ in range(kill_after):
                acked.acquire()
            killed["at"] = time.monotonic()
            s.script("kill", "east")
            s.script("promote")
            killed["promoted"] = time.monotonic()

        with gunicorn(env, work / "gunicorn.log", workers, threads) as port:
            began = time.monotonic()
            deadline = began + 240
            kill_thread = threading.Thread(target=killer, daemon=True)
            kill_thread.start()
            with ThreadPoolExecutor(max_workers=clients) as pool:
                for f in [pool.submit(_send, port, seed["token"], r, deadline, acked) for r in reqs]:
                    f.result()
            wall = time.monotonic() - began
            kill_thread.join(timeout=120)
        if "promoted" not in killed:
            raise RuntimeError("the primary was never killed and promoted (too few acknowledgements?)")
        return _verify(s, reqs, killed, kill_after, wall, workers, threads, clients)


def _verify(
    s: Sites,
    reqs: list[Request],
    killed: dict[str, float],
    kill_after: int,
    wall: float,
    workers: int,
    threads: int,
    clients: int,
) -> Report:
    new_primary = s.primary()
    tokens = [r.token for r in reqs]
    query = (
        "SELECT p.given_name, count(*) FROM registry_person p"
        " WHERE p.municipality_id = %s AND p.given_name = ANY(%s) GROUP BY 1"
    )
    with s.connect(new_primary, DATABASE) as conn:
        persons = {str(k): int(v) for k, v in conn.execute(query, [LG_CODE, tokens]).fetchall()}
        births = conn.execute(
            "SELECT count(*) FROM registry_change WHERE municipality_id = %s AND change_type = 'birth'", [LG_CODE]
        ).fetchone()
        stored = {
            str(k): (v or {}).get("change_number")
            for k, v in conn.execute(
                "SELECT key, response FROM core_idempotencykey WHERE municipality_id = %s", [LG_CODE]
            ).fetchall()
        }
        replication = [
            (str(a), str(b), str(c))
            for a, b, c in conn.execute(
                "SELECT application_name, state, sync_state FROM pg_stat_replication ORDER BY 1"
            ).fetchall()
        ]
        lsn = conn.execute("SELECT pg_current_wal_lsn()").fetchone()
    followers = [name for name, _, _ in replication]
    standby_has_all = bool(followers)
    for follower in followers:
        with s.connect(follower, DATABASE) as conn:
            # Wait for the standby to replay up to the primary's position, then compare.
            for _ in range(100):
                row = conn.execute("SELECT pg_last_wal_replay_lsn() >= %s::pg_lsn", [lsn[0] if lsn else "0/0"])
                if (r := row.fetchone()) and r[0]:
                    break
                time.sleep(0.05)
            seen = {str(k): int(v) for k, v in conn.execute(query, [LG_CODE, tokens]).fetchall()}
            standby_has_all = standby_has_all and seen == persons
    acked = [r for r in reqs if r.answer is not None]
    # Sent after the kill: a request in flight at the kill may still be answered (its commit was replicated).
    after_kill = [r.acked_at for r in acked if r.ack_started > killed["at"]]
    return Report(
        requests=len(reqs),
        acknowledged=len(acked),
        lost_acknowledged=[r.key for r in acked if persons.get(r.token, 0) != 1],
        duplicates={t: c for t, c in persons.items() if c > 1},
        wrong_change_number=[r.key for r in acked if r.answer and stored.get(r.key) != r.answer["change_number"]],
        final_errors=[f"#{r.n}: {r.final_error}" for r in reqs if r.final_error],
        dropped=sum(1 for r in reqs if r.drop_first_ack),
        dropped_replayed_same=sum(1 for r in reqs if r.drop_first_ack and r.replayed and r.answer == r.dropped_answer),
        replayed_total=sum(1 for r in acked if r.replayed),
        retried_after_failure=sum(
            1 for r in reqs if any(o not in ("201", "201 (answer dropped)") for _, _, o in r.attempts)
        ),
        failed_attempts=sum(1 for r in reqs for _, _, o in r.attempts if not o.startswith("201")),
        rto_seconds=(min(after_kill) - killed["at"]) if after_kill else float("inf"),
        promote_seconds=killed["promoted"] - killed["at"],
        kill_at_ack=kill_after,
        new_primary=new_primary,
        replication_after=replication,
        standby_has_all=standby_has_all,
        persons_in_db=sum(persons.values()),
        births_in_db=int(births[0]) if births else 0,
        wall_seconds=wall,
        workers=workers,
        threads=threads,
        clients=clients,
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--requests", type=int, default=400)
    parser.add_argument("--clients", type=int, default=8)
    parser.add_argument("--workers", type=int, default=4)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--write", type=Path, help="also write the report (Markdown) to this file")
    args = parser.parse_args()
    report = run(args.requests, args.clients, args.workers, args.threads)
    text = (
        f"# Failover drill {datetime.now(UTC):%Y-%m-%d %H:%M} UTC\n\n"
        f"Command: `make drill` (`python -m tests.failover.drill --requests {args.requests} --clients {args.clients}"
        f" --workers {args.workers} --threads {args.threads}`)\n"
        f"Machine: {os.cpu_count()} CPUs, load average {os.getloadavg()[0]:.1f} at the end.\n\n"
        f"{report.markdown()}\n\nVerdict: {'PASS' if report.ok else 'FAIL'}\n"
    )
    print(text)
    if args.write:
        args.write.write_text(text)
    sys.exit(0 if report.ok else 1)


if __name__ == "__main__":
    main()
