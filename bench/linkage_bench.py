"""連携 benchmark: commit → webhook receipt lag at a sustained 異動 rate, and pull-feed throughput.

    .venv/bin/python bench/linkage_bench.py --engine sqlite   [--rate 50 --seconds 60 --feed-events 20000]
    .venv/bin/python bench/linkage_bench.py --engine postgres [--rate 50 --seconds 60 --feed-events 20000]

1. A fresh database (SQLite file in a temporary directory with the app's settings, or a throwaway
   PostgreSQL 15 cluster on loopback, fsync on, migrated as the owner and used as the app role under
   row-level security), with 千代田区 (131016) on the platform.
2. A webhook subscription for ``registry.person.moved_in`` pointing at a real HTTP receiver on
   loopback (http.server in a thread of this process), and the real worker
   (``lgcloud deliver_webhooks --interval 0.02``) as a separate process.
3. ``--rate`` 転入 per second for ``--seconds`` through ``registry.actions.register_move_in``
   (one person each, as the counter files it), paced on a fixed schedule. For each 異動 the time
   the action returned (committed) is kept; the receiver notes when the signed POST for that
   person arrived. Lag = receipt − commit.
4. Pull feed: ``--feed-events`` more events are written (synthetic ``bench.synthetic`` events
   through the outbox, 500 per transaction), then a system client with scope ``events:read`` gets
   an OAuth token and reads the whole feed from cursor 0 with ``limit=1000``, through the API
   (Django's test client: the whole API stack, no network) and through ``linkage.queries.read_feed``.

Results go to bench/results/linkage-<date>-<engine>.md.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager, suppress
from datetime import date
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

MUNICIPALITY = "131016"  # 千代田区


def _machine() -> str:
    cpu = "?"
    with suppress(OSError):
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    return f"{os.cpu_count()} vCPU {cpu}, {platform.system()} {platform.release()}"


def _load_average() -> str:
    return " / ".join(f"{x:.1f}" for x in os.getloadavg())


@contextmanager
def _postgres() -> Iterator[dict[str, Any]]:
    from tests.pg_cluster import create_lgcloud_database, throwaway_cluster

    settings = {"shared_buffers": "'256MB'", "statement_timeout": "'120s'"}
    with throwaway_cluster(durable=True, settings=settings) as cluster:
        db = create_lgcloud_database(cluster, "lgcloud_bench")
        version = cluster.connect().execute("SHOW server_version").fetchone()
        yield {
            "LGCLOUD_DATABASE_URL": db.owner_url,
            "_app_url": db.app_url,
            "_version": f"PostgreSQL {version[0] if version else '?'}"
            " (throwaway cluster, fsync on; app role under RLS)",
        }


def _use_database(url: str) -> None:
    import dj_database_url
    from django.conf import settings
    from django.db import connections

    connections["default"].close()
    settings.DATABASES["default"] = dj_database_url.parse(url)
    connections.__dict__.pop("settings", None)
    connections._settings = None  # type: ignore[attr-defined]
    with suppress(AttributeError):
        del connections["default"]


class Receiver:
    """Loopback webhook receiver: notes the arrival time of each person's moved_in event."""

    def __init__(self) -> None:
        self.arrivals: dict[str, float] = {}
        self.posts = 0
        lock = threading.Lock()
        state = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("content-length", "0")))
                now = time.time()
                subject = json.loads(body)["subject"]["id"]
                with lock:
                    state.posts += 1
                    state.arrivals.setdefault(subject, now)
                self.send_response(204)
                self.end_headers()

            def log_message(self, format: str, *args: object) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/hook"

    def __enter__(self) -> Receiver:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.shutdown()
        self.server.server_close()


def _pct(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(p / 100 * (len(ordered) - 1)))]


def _lag_run(rate: float, seconds: float, receiver: Receiver) -> dict[str, Any]:
    from lgcloud.core.permissions import Role
    from lgcloud.core.tenancy import TenantContext
    from lgcloud.registry.actions import NewPerson, register_move_in

    clerk = TenantContext(
        lg_code=MUNICIPALITY, actor_id=1, actor_name="bench", roles=frozenset({Role.REGISTRY_CLERK}), purpose="bench"
    )
    # Warm-up: one 異動, and wait until its webhook arrives (the worker process has started).
    warm = register_move_in(
        clerk,
        persons=[NewPerson("準備", "運転", "ジュンビ", "ウンテン", date(1990, 1, 1), "1", "head")],
        address="東京都千代田区霞が関一丁目",
        effective_date=date(2025, 4, 1),
        filed_on=date(2025, 4, 1),
        previous_address="",
    ).atena_numbers[0]
    ready = time.time() + 180
    while warm not in receiver.arrivals and time.time() < ready:
        time.sleep(0.05)
    receiver.posts = 0
    commits: dict[str, float] = {}
    durations: list[float] = []
    total = int(rate * seconds)
    start = time.time()
    behind = 0
    for i in range(total):
        due = start + i / rate
        wait = due - time.time()
        if wait > 0:
            time.sleep(wait)
        elif wait < -0.1:
            behind += 1
        t0 = time.time()
        result = register_move_in(
            clerk,
            persons=[NewPerson("連携", f"{i:05d}", "レンケイ", "テスト", date(1990, 1, 1), "1", "head")],
            address=f"東京都千代田区霞が関一丁目{i}番",
            effective_date=date(2025, 4, 1),
            filed_on=date(2025, 4, 1),
            previous_address="",
            confirm_duplicates=True,
        )
        t1 = time.time()
        commits[result.atena_numbers[0]] = t1
        durations.append((t1 - t0) * 1000)
    elapsed = time.time() - start
    deadline = time.time() + 60
    while time.time() < deadline and len(set(commits) & set(receiver.arrivals)) < len(commits):
        time.sleep(0.1)
    lags = [(receiver.arrivals[a] - t) * 1000 for a, t in commits.items() if a in receiver.arrivals]
    return {
        "changes": total,
        "elapsed": elapsed,
        "achieved_rate": total / elapsed,
        "late_starts": behind,
        "commit_ms_p50": _pct(durations, 50),
        "commit_ms_p99": _pct(durations, 99),
        "received": len(lags),
        "posts": receiver.posts,
        "lag_p50": _pct(lags, 50) if lags else float("nan"),
        "lag_p95": _pct(lags, 95) if lags else float("nan"),
        "lag_p99": _pct(lags, 99) if lags else float("nan"),
        "lag_max": max(lags) if lags else float("nan"),
        "lag_mean": statistics.fmean(lags) if lags else float("nan"),
    }


def _feed_run(extra: int) -> dict[str, Any]:
    from django.db import transaction
    from django.test import Client

    from lgcloud.core.outbox import emit
    from lgcloud.core.tenancy import TenantContext, bound
    from lgcloud.linkage import queries
    from lgcloud.linkage.actions import create_api_client

    system = TenantContext.system(MUNICIPALITY, purpose="bench")
    t0 = time.time()
    written = 0
    while written < extra:
        with bound(system), transaction.atomic():
            for _ in range(min(500, extra - written)):
                emit(system, type="bench.synthetic", subject=str(written), effective_date=None, subject_type="bench")
                written += 1
    write_rate = written / (time.time() - t0)
    issued = create_api_client(system, name=f"bench-{time.time_ns()}", scopes=["events:read"])
    token = (
        Client()
        .post(
            "/oauth/token/",
            {"grant_type": "client_credentials", "client_id": issued.client_id, "client_secret": issued.client_secret},
        )
        .json()["access_token"]
    )
    api = Client(headers={"Authorization": f"Bearer {token}"})
    cursor, seen, pages = 0, 0, 0
    t0 = time.time()
    while True:
        body = api.get(f"/api/v1/municipalities/{MUNICIPALITY}/events", {"after": cursor, "limit": 1000}).json()
        seen += len(body["events"])
        pages += 1
        cursor = body["next_cursor"]
        if not body["has_more"]:
            break
    api_seconds = time.time() - t0
    reader = TenantContext.system(MUNICIPALITY, purpose="bench")
    cursor, direct = 0, 0
    t0 = time.time()
    while True:
        page = queries.read_feed(reader, after=cursor, limit=1000)
        direct += len(page.events)
        cursor = page.next_cursor
        if not page.has_more:
            break
    direct_seconds = time.time() - t0
    return {
        "synthetic_written": written,
        "synthetic_write_rate": write_rate,
        "feed_events": seen,
        "pages": pages,
        "api_rate": seen / api_seconds,
        "direct_rate": direct / direct_seconds,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--engine", choices=["sqlite", "postgres"], default="sqlite")
    parser.add_argument("--rate", type=float, default=50.0, help="異動 per second")
    parser.add_argument("--seconds", type=float, default=60.0)
    parser.add_argument("--feed-events", type=int, default=20000, help="extra events for the pull-feed measurement")
    parser.add_argument("--out", type=Path, default=ROOT / "bench" / "results")
    args = parser.parse_args()
    command = "    .venv/bin/python bench/linkage_bench.py " + " ".join(sys.argv[1:])
    load_before = _load_average()

    with ExitStack() as stack:
        var = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="lgcloud-linkage-bench-")))
        os.environ.update(
            LGCLOUD_ENV="development", LGCLOUD_VAR_DIR=str(var), DJANGO_SETTINGS_MODULE="lgcloud.settings"
        )
        if args.engine == "sqlite":
            env: dict[str, Any] = {"LGCLOUD_DATABASE_URL": f"sqlite:///{var / 'bench.sqlite3'}"}
        else:
            env = stack.enter_context(_postgres())
        os.environ["LGCLOUD_DATABASE_URL"] = env["LGCLOUD_DATABASE_URL"]

        import django

        django.setup()
        from django.conf import settings
        from django.core.management import call_command

        from lgcloud.core.tenancy import TenantContext
        from lgcloud.linkage.actions import create_subscription
        from lgcloud.municipalities.actions import load_municipalities, shipped_rows, update_municipality

        settings.ALLOWED_HOSTS = [*settings.ALLOWED_HOSTS, "testserver"]
        call_command("migrate", interactive=False, verbosity=0)
        if "_app_url" in env:
            _use_database(env["_app_url"])
        platform_ctx = TenantContext.system(None, purpose="bench")
        load_municipalities(platform_ctx, shipped_rows())
        update_municipality(platform_ctx, MUNICIPALITY, on_platform=True)
        if args.engine == "sqlite":
            from django.db import connection

            with connection.cursor() as c:
                c.execute("SELECT sqlite_version()")
                version = f"SQLite {c.fetchone()[0]} (WAL, synchronous=NORMAL: the app's settings)"
        else:
            version = env["_version"]

        receiver = stack.enter_context(Receiver())
        admin = TenantContext.system(MUNICIPALITY, purpose="bench")
        create_subscription(admin, name="bench", url=receiver.url, event_types=["registry.person.moved_in"])
        worker_env = {**os.environ, "LGCLOUD_DATABASE_URL": env.get("_app_url", env["LGCLOUD_DATABASE_URL"])}
        worker = subprocess.Popen(  # noqa: S603 - our own command, fixed arguments
            [
                str(ROOT / ".venv" / "bin" / "lgcloud"),
                "deliver_webhooks",
                "--interval",
                "0.02",
                "--municipality",
                MUNICIPALITY,
            ],
            env=worker_env,
            stdout=subprocess.DEVNULL,
            stderr=(var / "worker.log").open("w"),
        )
        stack.callback(lambda: (worker.terminate(), worker.wait(timeout=30)))
        print(f"lag run: {args.rate:g} 異動/s for {args.seconds:g} s …", flush=True)
        lag = _lag_run(args.rate, args.seconds, receiver)
        print(json.dumps(lag, ensure_ascii=False, indent=1), flush=True)
        print(f"feed run: {args.feed_events} extra events …", flush=True)
        feed = _feed_run(args.feed_events)
        print(json.dumps(feed, ensure_ascii=False, indent=1), flush=True)

    load_after = _load_average()
    goal = "met" if lag["lag_p99"] < 1000 and lag["received"] == lag["changes"] else "NOT met"
    lines = [
        f"## 連携 benchmark: {args.engine}",
        "",
        f"- date: {date.today().isoformat()}; machine: {_machine()}",
        f"- database: {version}; Python {platform.python_version()}",
        f"- load average (1/5/15 min) before: {load_before}; after: {load_after} (the machine is shared)",
        "- command:",
        "",
        command,
        "",
        "### Commit → webhook receipt",
        "",
        f"{lag['changes']} 転入 at a target of {args.rate:g}/s for {args.seconds:g} s: achieved "
        f"{lag['achieved_rate']:.1f}/s ({lag['late_starts']} started more than 100 ms late); commit p50 "
        f"{lag['commit_ms_p50']:.1f} ms, p99 {lag['commit_ms_p99']:.1f} ms. Received {lag['received']} of "
        f"{lag['changes']} (POSTs: {lag['posts']}).",
        "",
        "| lag | p50 | p95 | p99 | max | mean |",
        "|---|---:|---:|---:|---:|---:|",
        f"| ms | {lag['lag_p50']:.0f} | {lag['lag_p95']:.0f} | {lag['lag_p99']:.0f} | {lag['lag_max']:.0f} "
        f"| {lag['lag_mean']:.0f} |",
        "",
        f"Goal p99 < 1 s with every event delivered: **{goal}**.",
        "",
        "### Pull feed",
        "",
        f"{feed['feed_events']} events read from cursor 0 in {feed['pages']} pages of 1,000:",
        "",
        "| path | events/s |",
        "|---|---:|",
        f"| HTTP API (OAuth client, Django test client, full API stack) | {feed['api_rate']:,.0f} |",
        f"| `linkage.queries.read_feed` (bound transaction, audit record per page) | {feed['direct_rate']:,.0f} |",
        "",
        f"(The {feed['synthetic_written']} synthetic events were written at {feed['synthetic_write_rate']:,.0f}/s, "
        "500 per transaction.)",
        "",
    ]
    args.out.mkdir(parents=True, exist_ok=True)
    out = args.out / f"linkage-{date.today().isoformat()}-{args.engine}.md"
    out.write_text("\n".join(lines), encoding="utf-8")
    print(f"wrote {out}")


if __name__ == "__main__":
    main()
