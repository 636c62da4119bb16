"""Audit-log benchmark: what the audit append costs a read of personal data, and how reads of one municipality scale.

    .venv/bin/python bench/audit_bench.py [--seconds 15] [--clients 1,8] [--residents 1950] [--force] [--write FILE]

1. PostgreSQL 15 in a throwaway cluster on loopback (fsync on), migrated as the owner and used
   as the app role under row-level security, as in production; the demo data of
   ``lgcloud demo_residents`` (千代田区, 新宿区, 八王子市) and Tokyo's municipalities.
2. The sealer (``lgcloud audit_seal``, a pass about every second) runs as its own process
   throughout, as in production.
3. For each mode — ``audit`` (the code as it is) and ``no-audit`` (the same read with
   ``registry.queries``' audit append replaced by a no-op in the client processes) — and each
   number of clients: that many processes, each with its own connection, call
   ``registry.queries.get_record`` for random residents of 千代田区 (131016) for ``--seconds``
   seconds, after a warm-up. Reads are counted per process; the client CPU per read comes
   from each process's own clock.
4. Printed: reads/s per mode and clients, the scaling ratio (reads/s at the most clients over
   reads/s at 1, goal ≥ 1.7 with audit at 8 clients), the cost ratio of a read with audit over
   the same read without (wall time per read at 1 client, goal ≤ 2), the sealer lag seen
   during the audit runs, and the load average before, during (sampled in each run) and after.

The run refuses to start when the 1-minute load average is above 1.0 (other jobs would make
the figures meaningless on a shared machine) unless ``--force``. It writes nothing unless
``--write FILE`` is given.
"""

from __future__ import annotations

import argparse
import multiprocessing as mp
import os
import random
import subprocess
import sys
import tempfile
import threading
import time
from contextlib import suppress
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
from bench.linkage_bench import _machine  # noqa: E402 - needs ROOT on the path; one description of the machine

BIN = Path(sys.executable).parent
MUNICIPALITY = "131016"  # 千代田区
LOAD_LIMIT = 1.0
SCALING_GOAL = 1.7
COST_GOAL = 2.0


def _load() -> tuple[float, float, float]:
    return os.getloadavg()


def _fmt_load(load: tuple[float, float, float]) -> str:
    return " / ".join(f"{x:.2f}" for x in load)


# --- the client processes --------------------------------------------------------------------------


def _client(
    env: dict[str, str], audit: bool, atena: list[str], seed: int, start_at: float, seconds: float, out: Any
) -> None:
    """One client: its own connection, get_record in a loop from ``start_at`` for ``seconds``."""
    os.environ.update(env)
    import django

    django.setup()
    from lgcloud.core.permissions import Role
    from lgcloud.core.tenancy import TenantContext
    from lgcloud.registry import queries

    if not audit:
        queries.audit = lambda *args, **kwargs: None  # type: ignore[assignment]  # the read without its record
    ctx = TenantContext(
        lg_code=MUNICIPALITY,
        actor_id=1,
        actor_name="bench 窓口",
        roles=frozenset({Role.COUNTER}),
        purpose="staff.work",
    )
    rng = random.Random(seed)  # noqa: S311 - which resident to read, not a secret
    while time.time() < start_at - 1.0:  # warm-up: connection, caches, imports
        queries.get_record(ctx, rng.choice(atena))
    while time.time() < start_at:
        time.sleep(0.001)
    cpu0 = time.process_time()
    end = start_at + seconds
    reads = 0
    while time.time() < end:
        queries.get_record(ctx, rng.choice(atena))
        reads += 1
    out.put((reads, time.process_time() - cpu0))


@dataclass
class Run:
    mode: str
    clients: int
    seconds: float
    reads: int
    client_cpu: float
    load_during: tuple[float, float, float]
    max_lag: float | None = None
    drained_in: float | None = None

    @property
    def per_second(self) -> float:
        return self.reads / self.seconds

    @property
    def ms_per_read(self) -> float:
        """Wall time per read as one client sees it."""
        return self.clients * self.seconds * 1000 / self.reads if self.reads else float("inf")

    @property
    def cpu_ms_per_read(self) -> float:
        return self.client_cpu * 1000 / self.reads if self.reads else float("inf")


@dataclass
class Report:
    command: str
    load_before: tuple[float, float, float]
    runs: list[Run] = field(default_factory=list)
    load_after: tuple[float, float, float] | None = None
    version: str = ""
    residents: int = 0


def _measure(env: dict[str, str], mode: str, clients: int, seconds: float, atena: list[str]) -> Run:
    ctx = mp.get_context("spawn")
    out = ctx.Queue()
    start_at = time.time() + 8.0 + 0.5 * clients  # spawn, django.setup and a warm-up second
    procs = [
        ctx.Process(target=_client, args=(env, mode == "audit", atena, 1000 * clients + i, start_at, seconds, out))
        for i in range(clients)
    ]
    for p in procs:
        p.start()
    lags: list[float] = []
    stop = threading.Event()
    load_during: list[tuple[float, float, float]] = []

    def watch() -> None:
        from lgcloud.audit.sealer import seal_lag

        while not stop.is_set():
            if time.time() >= start_at:
                lags.append(seal_lag().total_seconds())
                if time.time() >= start_at + seconds / 2 and not load_during:
                    load_during.append(_load())
            stop.wait(1.0)

    watcher = threading.Thread(target=watch)
    watcher.start()
    results = [out.get(timeout=start_at - time.time() + seconds + 120) for _ in procs]
    for p in procs:
        p.join(60)
    stop.set()
    watcher.join(30)
    run = Run(
        mode, clients, seconds, sum(r[0] for r in results), sum(r[1] for r in results), (load_during or [_load()])[0]
    )
    if mode == "audit":
        from lgcloud.audit.sealer import seal_lag

        run.max_lag = max(lags, default=0.0)
        began = time.monotonic()
        while seal_lag().total_seconds() > 0 and time.monotonic() - began < 120:
            time.sleep(0.2)
        run.drained_in = time.monotonic() - began
    return run


# --- set-up ------------------------------------------------------------------------------------------


def _lgcloud(env: dict[str, str], *args: str) -> str:
    command = [str(BIN / "lgcloud"), *args]
    done = subprocess.run(command, env=env, capture_output=True, text=True, check=False)  # noqa: S603 - our own command
    if done.returncode != 0:
        raise SystemExit(f"lgcloud {' '.join(args)} failed:\n{done.stdout}\n{done.stderr}")
    return done.stdout


def _summary(report: Report) -> list[str]:
    def find(mode: str, clients: int) -> Run | None:
        return next((r for r in report.runs if r.mode == mode and r.clients == clients), None)

    counts = sorted({r.clients for r in report.runs})
    lines = [
        "# Audit append: cost and scaling of reads of one municipality",
        "",
        f"- command: `{report.command}`",
        f"- machine: {_machine()}; {report.version}",
        f"- data: demo residents ({report.residents:,} per municipality) of 千代田区 {MUNICIPALITY}; reads by"
        " `registry.queries.get_record`, each client a process with its own connection, as the app role under RLS",
        f"- load average (1/5/15 min) before: {_fmt_load(report.load_before)}"
        + (f"; after: {_fmt_load(report.load_after)}" if report.load_after else ""),
        "",
        "| mode | clients | reads | reads/s | ms per read (wall) | client CPU ms per read | load during |"
        " max sealer lag (s) | sealer caught up in (s) |",
        "|---|---:|---:|---:|---:|---:|---|---:|---:|",
    ]
    for r in report.runs:
        lag = f"{r.max_lag:.1f}" if r.max_lag is not None else "–"
        drained = f"{r.drained_in:.1f}" if r.drained_in is not None else "–"
        lines.append(
            f"| {r.mode} | {r.clients} | {r.reads:,} | {r.per_second:,.0f} | {r.ms_per_read:.2f} |"
            f" {r.cpu_ms_per_read:.2f} | {_fmt_load(r.load_during)} | {lag} | {drained} |"
        )
    lines.append("")
    low, high = counts[0], counts[-1]
    for mode in ("audit", "no-audit"):
        a, b = find(mode, low), find(mode, high)
        if a and b and high != low:
            ratio = b.per_second / a.per_second
            goal = (
                f" (goal ≥ {SCALING_GOAL}: {'met' if ratio >= SCALING_GOAL else 'NOT met'})" if mode == "audit" else ""
            )
            lines.append(
                f"- scaling, {mode}: {b.per_second:,.0f} / {a.per_second:,.0f} reads/s"
                f" = **{ratio:.2f}×** at {high} clients{goal}"
            )
    with_audit, without = find("audit", low), find("no-audit", low)
    if with_audit and without:
        cost = with_audit.ms_per_read / without.ms_per_read
        verdict = "met" if cost <= COST_GOAL else "NOT met"
        lines.append(
            f"- cost of a read with audit over the same read without, at {low} client(s):"
            f" {with_audit.ms_per_read:.2f} / {without.ms_per_read:.2f} ms = **{cost:.2f}×**"
            f" (goal ≤ {COST_GOAL}: {verdict})"
        )
    return lines


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else "")
    parser.add_argument("--seconds", type=float, default=15.0, help="measured seconds per run (default 15)")
    parser.add_argument("--clients", default="1,8", help="client process counts, comma-separated (default 1,8)")
    parser.add_argument("--residents", type=int, default=1950, help="demo residents per municipality (default 1950)")
    parser.add_argument("--force", action="store_true", help=f"run even when the load average is above {LOAD_LIMIT}")
    parser.add_argument("--write", metavar="FILE", help="also write the report (Markdown) to FILE")
    args = parser.parse_args()
    clients = sorted({int(c) for c in args.clients.split(",") if c.strip()})
    if not clients or min(clients) < 1 or args.seconds <= 0:
        parser.error("--clients needs positive counts and --seconds a positive number")
    before = _load()
    if before[0] > LOAD_LIMIT and not args.force:
        print(
            f"load average {_fmt_load(before)} is above {LOAD_LIMIT}: other work would distort the figures."
            " Run on a quiet machine, or pass --force (and say so with the figures).",
            file=sys.stderr,
        )
        return 2
    report = Report(" ".join([Path(sys.executable).name, *sys.argv]), before, residents=args.residents)

    from tests.pg_cluster import create_lgcloud_database, throwaway_cluster

    with (
        tempfile.TemporaryDirectory(prefix="lgcloud-audit-bench-") as tmp,
        throwaway_cluster(durable=True, settings={"shared_buffers": "'256MB'", "max_connections": "100"}) as cluster,
    ):
        db = create_lgcloud_database(cluster, "lgcloud_bench")
        version = cluster.connect().execute("SHOW server_version").fetchone()
        report.version = (
            f"PostgreSQL {version[0] if version else '?'} (throwaway cluster, fsync on; app role under RLS)"
        )
        env = {
            **os.environ,
            "LGCLOUD_ENV": "development",
            "LGCLOUD_VAR_DIR": tmp,
            "LGCLOUD_DATABASE_URL": db.app_url,
            "LGCLOUD_MIGRATE_DATABASE_URL": db.owner_url,
            "DJANGO_SETTINGS_MODULE": "lgcloud.settings",
        }
        env.pop("LGCLOUD_TENANT_CLUSTERS", None)
        print("migrating, loading the demo data …", file=sys.stderr)
        _lgcloud(env, "migrate", "--no-input")
        _lgcloud(env, "load_municipalities", "--prefecture", "13")
        _lgcloud(env, "demo_residents", "--residents", str(args.residents))
        _lgcloud(env, "audit_seal", "--once")
        client_env = {k: v for k, v in env.items() if k != "LGCLOUD_MIGRATE_DATABASE_URL"}
        os.environ.update(client_env)
        import django

        django.setup()  # as the app role: LGCLOUD_DATABASE_URL above
        with cluster.connect("lgcloud_bench") as conn:
            atena = [
                str(r[0])
                for r in conn.execute(
                    "SELECT atena_number FROM registry_person WHERE municipality_id = %s AND status = 'resident'",
                    [MUNICIPALITY],
                )
            ]
        if not atena:
            raise SystemExit("no residents were loaded")
        sealer = subprocess.Popen(  # noqa: S603 - our own command
            [str(BIN / "lgcloud"), "audit_seal", "--interval", "1"],
            env=client_env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            text=True,
        )
        try:
            for mode in ("no-audit", "audit"):
                for n in clients:
                    print(f"{mode}, {n} client(s), {args.seconds:g} s …", file=sys.stderr)
                    report.runs.append(_measure(client_env, mode, n, args.seconds, atena))
        finally:
            sealer.terminate()
            with suppress(subprocess.TimeoutExpired):
                sealer.wait(10)
    report.load_after = _load()
    lines = _summary(report)
    lines.append(f"- finished {datetime.now(UTC).isoformat(timespec='seconds')}")
    text = "\n".join(lines) + "\n"
    print(text)
    if args.write:
        Path(args.write).write_text(text, encoding="utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
