"""住民記録 benchmark: load N synthetic residents, then time the real reads and 異動 writes.

    .venv/bin/python bench/registry_bench.py --engine sqlite --residents 1000000
    .venv/bin/python bench/registry_bench.py --engine postgres --residents 1000000

Everything goes through lgcloud's own code: the bulk loader (registry.bulk), the
query functions staff screens use (registry.queries: search_persons, get_record,
get_household — each one audited, as in production) and the actions
(register_address_change, register_birth). SQLite runs with the app's settings
(WAL, synchronous=NORMAL) in a temporary directory; PostgreSQL 15 runs in a
throwaway cluster (tests/pg_cluster.py) with fsync on, migrated as the owner
role and used as the app role under row-level security, as in production.

The run bounds itself: --budget seconds in all (the load stops early when it
has used its share, and each measurement stops at its deadline), every
PostgreSQL statement has a timeout, and an alarm ends the run if anything
hangs. Results go to stdout and to bench/results/registry-<date>-<engine>-<N>.md.
"""

from __future__ import annotations

import argparse
import os
import platform
import signal
import statistics
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager, suppress
from dataclasses import dataclass, field
from datetime import date, timedelta
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))  # tests.pg_cluster

MUNICIPALITY = "131121"  # 世田谷区: the largest special ward (~0.92 M residents)
OPENCRVS_READ_P95_MS = 150.0
OPENCRVS_WRITE_P95_MS = 300.0
# The common forms staff type for the variant characters the generator writes.
TYPED = str.maketrans({"髙": "高", "\ufa11": "崎", "\U00020bb7": "吉", "邊": "辺", "邉": "辺", "齋": "斎", "澤": "沢"})


class OutOfTime(Exception):
    pass


def _alarm(signum: int, _frame: object) -> None:
    if signum == signal.SIGALRM:
        raise OutOfTime("the benchmark exceeded its time budget")
    raise OutOfTime(f"stopped by signal {signum}")


@dataclass
class Timing:
    name: str
    samples: list[float] = field(default_factory=list)  # seconds
    rows: list[int] = field(default_factory=list)
    wall: float = 0.0
    note: str = ""

    def pct(self, p: float) -> float:
        ordered = sorted(self.samples)
        k = max(0, min(len(ordered) - 1, round(p / 100 * len(ordered) + 0.5) - 1))
        return ordered[k] * 1000

    def row(self, target: float | None) -> str:
        if not self.samples:
            return f"| {self.name} | 0 | – | – | – | – | – | – |"
        rows = f"{statistics.median(self.rows):,.0f}" if self.rows else "–"
        ratio = f"{self.pct(95) / target:.2f}" if target else "–"
        return (
            f"| {self.name} | {len(self.samples)} | {self.pct(50):.1f} | {self.pct(95):.1f} | {self.pct(99):.1f}"
            f" | {statistics.fmean(self.samples) * 1000:.1f} | {rows} | {ratio} |"
        )


@dataclass
class Report:
    engine: str
    requested: int
    command: str
    lines: list[str] = field(default_factory=list)

    def add(self, text: str = "") -> None:
        print(text, flush=True)
        self.lines.append(text)


# --- environment ------------------------------------------------------------------------------


def _machine() -> str:
    cpu = "?"
    with suppress(OSError):
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    mem = "?"
    with suppress(OSError, ValueError, IndexError):
        kib = int(Path("/proc/meminfo").read_text().split()[1])
        mem = f"{kib / 1024 / 1024:.0f} GiB"
    return f"{os.cpu_count()} vCPU {cpu}, {mem} RAM, {platform.system()} {platform.release()}"


def _load_average() -> str:
    return " / ".join(f"{x:.1f}" for x in os.getloadavg())


@contextmanager
def _sqlite(var: Path, reuse: Path | None) -> Iterator[dict[str, str]]:
    db = reuse or var / "bench.sqlite3"
    yield {"LGCLOUD_DATABASE_URL": f"sqlite:///{db}"}


@contextmanager
def _postgres() -> Iterator[dict[str, Any]]:
    from tests.pg_cluster import create_lgcloud_database, throwaway_cluster

    settings = {
        "shared_buffers": "'1GB'",
        "max_wal_size": "'8GB'",
        "checkpoint_timeout": "'30min'",
        "maintenance_work_mem": "'256MB'",
        "work_mem": "'16MB'",
        "statement_timeout": "'120s'",  # nothing may hang the run
    }
    with throwaway_cluster(durable=True, settings=settings) as cluster:
        db = create_lgcloud_database(cluster, "lgcloud_bench")
        version = cluster.connect().execute("SHOW server_version").fetchone()
        yield {
            "LGCLOUD_DATABASE_URL": db.owner_url,
            "_app_url": db.app_url,
            "_owner_url": db.owner_url,
            "_superuser_url": db.superuser_url,
            "_version": f"PostgreSQL {version[0] if version else '?'}",
        }


def _use_database(url: str) -> None:
    """Point Django's default connection at another URL (the app role after migrating as the owner)."""
    import dj_database_url
    from django.conf import settings
    from django.db import connections

    connections["default"].close()
    settings.DATABASES["default"] = dj_database_url.parse(url)
    connections.__dict__.pop("settings", None)
    connections._settings = None  # type: ignore[attr-defined]
    with suppress(AttributeError):
        del connections["default"]


# --- phases -----------------------------------------------------------------------------------


def _staff(code: str) -> Any:
    from lgcloud.core.permissions import Role
    from lgcloud.core.tenancy import TenantContext

    return TenantContext(
        lg_code=code, actor_id=1, actor_name="bench 住記", roles=frozenset({Role.REGISTRY_CLERK}), purpose="bench"
    )


def _load(report: Report, n: int, deadline: float, batch: int, seed: int) -> tuple[int, float]:
    from django.utils import timezone

    from lgcloud.core.tenancy import TenantContext
    from lgcloud.registry.bulk import LoadStats, count_residents, load_households
    from lgcloud.registry.generator import generate_town

    ctx = TenantContext.system(MUNICIPALITY, purpose="bench.load", actor_name="bench")
    have = count_residents(ctx)
    if have:
        report.add(f"Reusing a database with {have:,} residents (no load).")
        return have, 0.0
    today = timezone.localdate()
    town = generate_town(MUNICIPALITY, n, seed=seed, as_of=today - timedelta(days=30), history=True)
    stopped = False

    def bounded() -> Iterator[Any]:
        nonlocal stopped
        for household in town:
            if time.monotonic() > deadline:
                stopped = True
                return
            yield household

    started, cpu = time.perf_counter(), time.process_time()
    last = [started]

    def progress(stats: LoadStats) -> None:
        now = time.perf_counter()
        if now - last[0] > 15 or stats.persons >= n:
            last[0] = now
            print(
                f"  loaded {stats.persons:>9,} / {n:,}  {stats.persons / (now - started):,.0f}/s"
                f"  load avg {_load_average()}",
                flush=True,
            )

    stats = load_households(ctx, bounded(), batch_size=batch, on_batch=progress)
    wall, cpu = time.perf_counter() - started, time.process_time() - cpu
    report.add(
        f"Loaded {stats.persons:,} residents in {stats.households:,} households with {stats.changes:,} 異動 and "
        f"{stats.versions:,} versions in {wall:,.1f} s: **{stats.persons / wall:,.0f} residents/s** "
        f"({stats.batches} batches of {batch:,}; this process used {cpu:,.1f} s of CPU)"
        + (" — stopped early at the load budget" if stopped else "")
    )
    return stats.persons, wall


def _analyze(env: dict[str, Any], report: Report) -> None:
    started = time.perf_counter()
    if "_owner_url" in env:
        import psycopg

        # ANALYZE needs the owner; autovacuum would get there on its own, later.
        with psycopg.connect(env["_owner_url"], autocommit=True) as conn:
            conn.execute("SET statement_timeout = 0")
            for table in ("registry_person", "registry_household", "registry_change", "registry_personversion"):
                conn.execute(f"VACUUM ANALYZE {table}")
        report.add(f"VACUUM ANALYZE as the owner role: {time.perf_counter() - started:.1f} s")
    else:
        from django.db import connection

        with connection.cursor() as cursor:
            cursor.execute("ANALYZE")
        report.add(f"ANALYZE: {time.perf_counter() - started:.1f} s")


def _check_rls(env: dict[str, Any], report: Report, n: int) -> None:
    if "_superuser_url" not in env:
        return
    import psycopg

    with psycopg.connect(env["_superuser_url"], autocommit=True) as su:
        total = su.execute("SELECT count(*) FROM registry_person").fetchone()
        flags = su.execute(
            "SELECT bool_and(relrowsecurity AND relforcerowsecurity) FROM pg_class"
            " WHERE relname IN ('registry_person', 'registry_personversion', 'registry_change', 'registry_household')"
        ).fetchone()
        role = su.execute("SELECT rolsuper OR rolbypassrls FROM pg_roles WHERE rolname = 'lgcloud_app'").fetchone()
    with psycopg.connect(env["_app_url"], autocommit=True) as app:
        seen = app.execute("SELECT count(*) FROM registry_person").fetchone()
    report.add(
        f"Row-level security: forced on the registry tables = {flags and flags[0]}; the app role bypasses RLS ="
        f" {role and role[0]}; rows it sees without a tenant: {seen and seen[0]} (superuser sees"
        f" {total and total[0]:,})"
    )


@dataclass(frozen=True)
class Sample:
    atena: str
    household: str
    family: str
    given: str
    family_kana: str
    given_kana: str
    birth: date
    address: str


def _samples(k: int) -> list[Sample]:
    from lgcloud.core.tenancy import TenantContext, bound
    from lgcloud.registry.models import Person

    ctx = TenantContext.system(MUNICIPALITY, purpose="bench.sample")
    with bound(ctx):
        rows = list(
            Person.objects.filter(municipality_id=MUNICIPALITY, status="resident")
            .order_by("?")
            .values_list(
                "atena_number",
                "household__household_number",
                "family_name",
                "given_name",
                "family_name_kana",
                "given_name_kana",
                "birth_date",
                "address",
            )[:k]
        )
    return [Sample(*r) for r in rows]


def _address_prefix(address: str) -> str:
    if "丁目" in address:
        return address[: address.index("丁目") + 2]
    return address.rstrip("0123456789番地")


def _time_calls(
    name: str, calls: list[Callable[[], int | None]], deadline: float, warmup: int = 10, note: str = ""
) -> Timing:
    timing = Timing(name, note=note)
    for call in calls[:warmup]:
        call()
    started = time.perf_counter()
    for call in calls:
        if time.monotonic() > deadline:
            timing.name += " (stopped at its time budget)"
            break
        t = time.perf_counter()
        rows = call()
        timing.samples.append(time.perf_counter() - t)
        if rows is not None:
            timing.rows.append(rows)
    timing.wall = time.perf_counter() - started
    return timing


def _reads(samples: list[Sample], deadline: float, searches_only: bool = False) -> list[Timing]:
    from django.utils import timezone

    from lgcloud.registry import queries
    from lgcloud.registry.queries import SearchQuery

    ctx = _staff(MUNICIPALITY)
    today = timezone.localdate()

    def search(q: SearchQuery) -> Callable[[], int]:
        return lambda: len(queries.search_persons(ctx, q, today=today).results)

    def kana(s: Sample) -> SearchQuery:
        return SearchQuery(kana=s.family_kana + s.given_kana[:1])

    def name(s: Sample) -> SearchQuery:
        return SearchQuery(name=(s.family + s.given[:1]).translate(TYPED))

    def address(s: Sample) -> SearchQuery:
        return SearchQuery(address=_address_prefix(s.address))

    phases: list[tuple[str, list[Callable[[], int | None]], str]] = [
        ("search: kana prefix (氏カナ + 名の1字)", [search(kana(s)) for s in samples], ""),
        ("search: name prefix, variants folded (氏 + 名の1字)", [search(name(s)) for s in samples], ""),
        ("search: birth date", [search(SearchQuery(birth_date=s.birth)) for s in samples], ""),
        ("search: address prefix (…丁目)", [search(address(s)) for s in samples], ""),
        (
            "person view: get_record",
            [lambda s=s: (queries.get_record(ctx, s.atena), 1)[1] for s in samples],
            "",
        ),
        (
            "household view: get_household",
            [lambda s=s: len(queries.get_household(ctx, s.household, today=today)) for s in samples],
            "",
        ),
    ]
    if searches_only:
        phases = [p for p in phases if p[0].startswith("search")]
    out = []
    per_phase = max(10.0, (deadline - time.monotonic()) / len(phases))
    for name, calls, note in phases:
        timing = _time_calls(name, calls, min(deadline, time.monotonic() + per_phase), note=note)
        print(f"  {timing.row(OPENCRVS_READ_P95_MS)}", flush=True)
        out.append(timing)
    return out


BABY_NAMES = (
    ("太郎", "タロウ"),
    ("花子", "ハナコ"),
    ("陽翔", "ハルト"),
    ("結菜", "ユイナ"),
    ("蓮", "レン"),
    ("葵", "アオイ"),
)


def _undo_0004(env: dict[str, Any]) -> None:
    """Run migration 0004 backwards (default collation on PostgreSQL, no NOCASE indexes on SQLite)."""
    from lgcloud.registry.models import Person

    keys = [(k, Person._meta.get_field(k).max_length) for k in ("name_key", "kana_key", "address_key")]
    if "_owner_url" in env:
        import psycopg

        with psycopg.connect(env["_owner_url"], autocommit=True) as conn:
            conn.execute("SET statement_timeout = 0")
            for key, length in keys:
                conn.execute(f'ALTER TABLE registry_person ALTER COLUMN {key} TYPE varchar({length}) COLLATE "default"')
            conn.execute("ANALYZE registry_person")
    else:
        from django.db import connection

        with connection.cursor() as cursor:
            for key, _length in keys:
                cursor.execute(f"DROP INDEX IF EXISTS person_{key}_prefix_idx")
            cursor.execute("ANALYZE")


def _write_calls(samples: list[Sample], today: date) -> tuple[list[Callable[[], None]], list[Callable[[], None]]]:
    """Address changes and births on distinct households, as the counter would file them.

    The members of each moving household are looked up before the clock starts: the
    screen has shown the household already when the clerk presses 登録.
    """
    from lgcloud.core.tenancy import bound
    from lgcloud.registry import actions
    from lgcloud.registry.generator import TownGenerator
    from lgcloud.registry.models import Person

    ctx = _staff(MUNICIPALITY)
    town = TownGenerator(MUNICIPALITY, seed=99, as_of=today)
    households = list({s.household: s for s in samples}.values())
    half = len(households) // 2
    members: dict[str, list[str]] = {}
    with bound(ctx):
        for number, atena in (
            Person.objects.filter(
                municipality_id=MUNICIPALITY, household__household_number__in=[s.household for s in households[:half]]
            )
            .exclude(status="removed")
            .values_list("household__household_number", "atena_number")
        ):
            members.setdefault(number, []).append(atena)
    moves, births = [], []
    for s in households[:half]:
        address, detail = town.local_address()

        def move(atenas: list[str] = members[s.household], address: str = address, detail: str = detail) -> None:
            actions.register_address_change(
                ctx, atena_numbers=atenas, address=address, address_detail=detail, effective_date=today, filed_on=today
            )

        moves.append(move)
    for i, s in enumerate(households[half:]):
        given, kana = BABY_NAMES[i % len(BABY_NAMES)]
        child = actions.NewPerson(
            s.family, given, s.family_kana, kana, today - timedelta(days=i % 10), "1" if i % 2 else "2", "child"
        )

        def birth(number: str = s.household, child: Any = child) -> None:
            actions.register_birth(ctx, household_number=number, person=child, filed_on=today)

        births.append(birth)
    return moves, births


def _writes(samples: list[Sample], n: int, deadline: float, threads: int) -> list[Timing]:
    from django.db import connection
    from django.utils import timezone

    today = timezone.localdate()
    moves, births = _write_calls(samples, today)
    out = []
    per_phase = max(10.0, (deadline - time.monotonic()) / 3)
    for name, calls in (("異動: 転居 register_address_change", moves[:n]), ("異動: 出生 register_birth", births[:n])):
        timing = _time_calls(name, calls, min(deadline, time.monotonic() + per_phase), warmup=0)
        timing.note = f"{len(timing.samples) / timing.wall:,.0f} 異動/s, 1 thread" if timing.wall else ""
        print(f"  {timing.row(OPENCRVS_WRITE_P95_MS)}  {timing.note}", flush=True)
        out.append(timing)

    # The same work from several threads at once (each its own connection), as several counters would.
    rest = [c for pair in zip(moves[n:], births[n:], strict=False) for c in pair]
    if threads > 1 and rest:
        timing = Timing(f"異動: 転居+出生, {threads} threads")
        lock = threading.Lock()
        phase_deadline = min(deadline, time.monotonic() + per_phase)
        errors: list[Exception] = []

        def worker(calls: list[Callable[[], None]]) -> None:
            try:
                for call in calls:
                    if time.monotonic() > phase_deadline:
                        return
                    t = time.perf_counter()
                    call()
                    with lock:
                        timing.samples.append(time.perf_counter() - t)
            except Exception as exc:  # noqa: BLE001 - reported in the table, the run goes on
                errors.append(exc)
            finally:
                connection.close()

        chunks = [rest[i::threads] for i in range(threads)]
        started = time.perf_counter()
        pool = [threading.Thread(target=worker, args=(c,)) for c in chunks]
        for t in pool:
            t.start()
        for t in pool:
            t.join()
        timing.wall = time.perf_counter() - started
        timing.note = f"{len(timing.samples) / timing.wall:,.0f} 異動/s in all" + (
            f"; {len(errors)} thread(s) failed: {errors[0]!r}" if errors else ""
        )
        print(f"  {timing.row(OPENCRVS_WRITE_P95_MS)}  {timing.note}", flush=True)
        out.append(timing)
    return out


# --- main -------------------------------------------------------------------------------------


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--engine", choices=("sqlite", "postgres"), required=True)
    parser.add_argument("--residents", type=int, default=1_000_000)
    parser.add_argument("--samples", type=int, default=500, help="calls per read measured (≥ 500 for p99)")
    parser.add_argument("--writes", type=int, default=300, help="異動 of each kind, sequentially")
    parser.add_argument("--threads", type=int, default=2, help="threads for the concurrent write phase (1: none)")
    parser.add_argument("--budget", type=float, default=2700, help="seconds for the whole run")
    parser.add_argument("--load-share", type=float, default=0.6, help="share of the budget the load may use")
    parser.add_argument("--batch", type=int, default=5000)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument(
        "--compare-without-0004",
        action="store_true",
        help="afterwards, undo migration 0004 (search key collation / indexes) and time the searches again",
    )
    parser.add_argument("--reuse", type=Path, help="SQLite only: an already loaded database file to measure again")
    parser.add_argument("--out", type=Path, default=ROOT / "bench" / "results")
    args = parser.parse_args()
    if args.reuse and args.engine != "sqlite":
        parser.error("--reuse is for --engine sqlite")

    start = time.monotonic()
    # Any of these ends the run through the same path, so the PostgreSQL cluster is always removed.
    for signum in (signal.SIGALRM, signal.SIGTERM, signal.SIGINT):
        signal.signal(signum, _alarm)
    signal.alarm(int(args.budget) + 300)  # the last resort: everything below is bounded already
    command = "    .venv/bin/python bench/registry_bench.py " + " ".join(sys.argv[1:])
    report = Report(args.engine, args.residents, command)
    load_start = _load_average()

    with ExitStack() as stack:
        var = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="lgcloud-bench-")))
        os.environ.update(
            LGCLOUD_ENV="development", LGCLOUD_VAR_DIR=str(var), DJANGO_SETTINGS_MODULE="lgcloud.settings"
        )
        os.environ.pop("LGCLOUD_DATABASE_URL", None)
        env: dict[str, Any] = stack.enter_context(_sqlite(var, args.reuse) if args.engine == "sqlite" else _postgres())
        os.environ["LGCLOUD_DATABASE_URL"] = env["LGCLOUD_DATABASE_URL"]

        import django

        django.setup()
        from django.core.management import call_command
        from django.db import connection

        from lgcloud.core.tenancy import TenantContext
        from lgcloud.municipalities.actions import load_municipalities, shipped_rows
        from lgcloud.municipalities.queries import get_municipality

        call_command("migrate", interactive=False, verbosity=0)  # as the owner on PostgreSQL
        if "_app_url" in env:
            _use_database(env["_app_url"])
        if get_municipality(MUNICIPALITY) is None:
            load_municipalities(TenantContext.system(None, purpose="bench"), shipped_rows())
        if args.engine == "sqlite":
            with connection.cursor() as cursor:
                cursor.execute("SELECT sqlite_version()")
                version = f"SQLite {cursor.fetchone()[0]} (WAL, synchronous=NORMAL: the app's settings)"
        else:
            version = f"{env['_version']} (throwaway cluster, fsync on, shared_buffers 1GB; app role under RLS)"

        report.add(f"## 住民記録 benchmark: {args.engine}, {args.residents:,} residents requested")
        report.add()
        report.add(f"- date: {date.today().isoformat()}; machine: {_machine()}")
        report.add(f"- database: {version}; Python {platform.python_version()}; Django {django.get_version()}")
        report.add(f"- municipality {MUNICIPALITY} (世田谷区); generator seed {args.seed}, with history")
        report.add("- command:")
        report.add()
        report.add(command)
        report.add()
        loaded, _ = _load(report, args.residents, start + args.budget * args.load_share, args.batch, args.seed)
        _analyze(env, report)
        _check_rls(env, report, loaded)
        report.add()

        remaining = args.budget - (time.monotonic() - start)
        samples = _samples(max(args.samples, 2 * (args.writes + args.writes)))
        compare = args.compare_without_0004
        reads = _reads(samples[: args.samples], time.monotonic() + remaining * (0.4 if compare else 0.6))
        writes_end = time.monotonic() + remaining * 0.3 if compare else start + args.budget - 30
        writes = _writes(samples, args.writes, writes_end, args.threads)
        without: list[Timing] = []
        if compare:
            _undo_0004(env)
            print("  without migration 0004:", flush=True)
            without = _reads(samples[: args.samples], start + args.budget - 30, searches_only=True)

        report.add("| measurement | calls | p50 ms | p95 ms | p99 ms | mean ms | rows (median) | p95 / OpenCRVS |")
        report.add("|---|---:|---:|---:|---:|---:|---:|---:|")
        for t in reads:
            report.add(t.row(OPENCRVS_READ_P95_MS))
        for t in writes:
            report.add(t.row(OPENCRVS_WRITE_P95_MS))
        report.add()
        if without:
            report.add("Without migration 0004 (run backwards after the measurements above, then ANALYZE):")
            report.add()
            report.add("| measurement | calls | p50 ms | p95 ms | p99 ms | mean ms | rows (median) | p95 / OpenCRVS |")
            report.add("|---|---:|---:|---:|---:|---:|---:|---:|")
            for t in without:
                report.add(t.row(OPENCRVS_READ_P95_MS))
            report.add()
        for t in writes:
            report.add(f"- {t.name}: {t.note}")
        report.add(
            f"- OpenCRVS targets: p95 {OPENCRVS_READ_P95_MS:.0f} ms for reads,"
            f" {OPENCRVS_WRITE_P95_MS:.0f} ms for writes at 1 M records;"
            " the last column is measured p95 / target (below 1 meets it)."
        )
        report.add(f"- load average (1/5/15 min) at start {load_start}, at end {_load_average()}")
        report.add(f"- total run time {time.monotonic() - start:,.0f} s")

        args.out.mkdir(parents=True, exist_ok=True)
        target = args.out / f"registry-{date.today().isoformat()}-{args.engine}-{loaded}.md"
        target.write_text("\n".join(report.lines) + "\n", encoding="utf-8")
        print(f"\nwritten to {target.relative_to(ROOT) if target.is_relative_to(ROOT) else target}")
        connection.close()
    signal.alarm(0)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
