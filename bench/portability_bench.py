"""Standard layout at scale: export, verify and import a 1M-resident town, against the engine's raw insert rate.

    .venv/bin/python bench/portability_bench.py --engine sqlite --town-db var/bench/town-1m.sqlite3 --keep-bundle var/bench/bundle-1m
    .venv/bin/python bench/portability_bench.py --engine postgres --bundle var/bench/bundle-1m

SQLite: the town (bench/town.py builds it once; 世田谷区 131121) is copied to a temporary directory, so the
source file is never changed. PostgreSQL: a throwaway cluster (tests/pg_cluster.py, fsync on), migrated as the
owner and used as the app role (row-level security on); the town comes in by importing the SQLite run's bundle.

Then, in one run, on one database:
1. export 世田谷区 (export_bundle, as export_standard runs it) → bundle A;
2. verify bundle A (verify_bundle, as verify_standard runs it);
3. import bundle A into 渋谷区 131130 (import_bundle: verify, then write in one transaction);
4. export 渋谷区 → bundle B, and compare A and B byte for byte (the round trip);
5. raw engine insert of the same rows (every row the import wrote, read back from 渋谷区) into 中野区 131148:
   executemany in one transaction on SQLite, COPY on PostgreSQL (as the superuser: COPY FROM is not allowed
   under row-level security). Only the insert calls are timed.

The figures: persons/s for each phase; the import's rate as a share of the raw rate (goal ≥ 50 %); the round
trip (export + import) in seconds (goal < 120 s for 1M residents). Results go to bench/results/.
"""

from __future__ import annotations

import argparse
import filecmp
import json
import os
import platform
import resource
import shutil
import sys
import tempfile
import time
from contextlib import suppress
from datetime import date
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

SOURCE = "131121"  # 世田谷区
TARGET = "131130"  # 渋谷区
RAW = "131148"  # 中野区
TABLES = (
    "registry_household",
    "registry_person",
    "registry_change",
    "registry_personversion",
    "registry_protectionorder",
)


def _cpu() -> float:
    r = resource.getrusage(resource.RUSAGE_SELF)
    return r.ru_utime + r.ru_stime


def _machine() -> str:
    cpu = "?"
    with suppress(OSError):
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    return f"{os.cpu_count()} vCPU {cpu}, {platform.system()} {platform.release()}"


def _load() -> str:
    return " / ".join(f"{x:.1f}" for x in os.getloadavg())


class Out:
    def __init__(self) -> None:
        self.lines: list[str] = []

    def __call__(self, text: str = "") -> None:
        print(text, flush=True)
        self.lines.append(text)


def _django(url: str, var: Path) -> None:
    os.environ.update(
        LGCLOUD_ENV="development",
        LGCLOUD_VAR_DIR=str(var),
        DJANGO_SETTINGS_MODULE="lgcloud.settings",
        LGCLOUD_DATABASE_URL=url,
    )
    import django

    django.setup()


def _use(url: str) -> None:
    import dj_database_url
    from django.conf import settings
    from django.db import connections

    connections["default"].close()
    settings.DATABASES["default"] = dj_database_url.parse(url)
    connections.__dict__.pop("settings", None)
    connections._settings = None  # type: ignore[attr-defined]
    with suppress(AttributeError):
        del connections["default"]


def _ctx(code: str) -> Any:
    from lgcloud.core.tenancy import TenantContext

    return TenantContext.system(code, purpose="bench.portability", actor_name="bench")


def _timed(out: Out, name: str, persons: int, fn: Any) -> tuple[Any, float]:
    started, cpu = time.perf_counter(), _cpu()
    result = fn()
    wall = time.perf_counter() - started
    out(f"| {name} | {wall:,.1f} | {_cpu() - cpu:,.1f} | {persons / wall:,.0f} | {_load()} |")
    return result, wall


def _raw_sqlite(out: Out) -> float:
    """executemany of 渋谷区's rows into 中野区, one transaction; only the inserts are timed."""
    from django.db import connection

    total = 0.0
    with connection.cursor() as cur:
        cur.execute("BEGIN")
        for table in TABLES:
            cur.execute(f"SELECT * FROM {table} LIMIT 0")  # noqa: S608 — our own table names
            cols = [d[0] for d in cur.description if d[0] != "id"]
            m = cols.index("municipality_id")
            select = f"SELECT {', '.join(cols)} FROM {table} WHERE municipality_id = %s ORDER BY id"  # noqa: S608
            insert = f"INSERT INTO {table} ({', '.join(cols)}) VALUES ({', '.join(['%s'] * len(cols))})"  # noqa: S608
            reader = connection.connection.cursor()  # a second cursor: read while the first writes
            reader.execute(select.replace("%s", "?"), [TARGET])
            n = 0
            while rows := reader.fetchmany(50_000):
                rows = [(*r[:m], RAW, *r[m + 1 :]) for r in rows]
                started = time.perf_counter()
                cur.executemany(insert, rows)
                total += time.perf_counter() - started
                n += len(rows)
            out(f"  raw executemany {table}: {n:,} rows")
        started = time.perf_counter()
        cur.execute("COMMIT")
        total += time.perf_counter() - started
    return total


def _copyable(value: Any) -> Any:
    """A jsonb value read back as a dict goes out again as jsonb."""
    from psycopg.types.json import Jsonb

    return Jsonb(value) if isinstance(value, dict | list) else value


def _raw_postgres(out: Out, superuser_url: str) -> float:
    """COPY of 渋谷区's rows into 中野区 as the superuser; only the COPY is timed."""
    import psycopg

    total = 0.0
    with psycopg.connect(superuser_url) as read, psycopg.connect(superuser_url) as write:
        for table in TABLES:
            cols = [
                r[0]
                for r in read.execute(
                    "SELECT column_name FROM information_schema.columns WHERE table_name = %s ORDER BY ordinal_position",
                    [table],
                )
                if r[0] != "id"
            ]
            m = cols.index("municipality_id")
            n = 0
            with read.cursor(name=f"raw_{table}") as cur:
                cur.execute(f"SELECT {', '.join(cols)} FROM {table} WHERE municipality_id = %s ORDER BY id", [TARGET])  # noqa: S608
                while rows := cur.fetchmany(50_000):
                    started = time.perf_counter()
                    with write.cursor().copy(f"COPY {table} ({', '.join(cols)}) FROM STDIN") as copy:  # noqa: S608
                        for r in rows:
                            copy.write_row(tuple(_copyable(v) for v in (*r[:m], RAW, *r[m + 1 :])))
                    total += time.perf_counter() - started
                    n += len(rows)
            out(f"  raw COPY {table}: {n:,} rows")
        started = time.perf_counter()
        write.commit()
        total += time.perf_counter() - started
    return total


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--engine", choices=("sqlite", "postgres"), required=True)
    parser.add_argument(
        "--town-db",
        type=Path,
        default=ROOT / "var" / "bench" / "town-1m.sqlite3",
        help="SQLite: the town built by bench/town.py (copied, never changed)",
    )
    parser.add_argument("--bundle", type=Path, help="PostgreSQL: the bundle to load the town from")
    parser.add_argument("--keep-bundle", type=Path, help="keep bundle A here (for the PostgreSQL run)")
    parser.add_argument("--work", type=Path, default=None, help="scratch directory (default: a temporary one)")
    args = parser.parse_args()
    out = Out()
    work = Path(tempfile.mkdtemp(prefix="lgcloud-port-", dir=args.work))
    command = "python " + " ".join(sys.argv)
    try:
        if args.engine == "sqlite":
            db = work / "town.sqlite3"
            started = time.perf_counter()
            shutil.copy(args.town_db, db)
            print(f"copied the town in {time.perf_counter() - started:,.0f} s", flush=True)
            _django(f"sqlite:///{db}", work)
            from django.core.management import call_command

            call_command("migrate", interactive=False, verbosity=0)
            superuser_url = ""
            version = "SQLite"
            cluster = None
        else:
            from tests.pg_cluster import create_lgcloud_database, start_cluster

            cluster = start_cluster(
                durable=True,
                settings={
                    "shared_buffers": "'1GB'",
                    "max_wal_size": "'8GB'",
                    "checkpoint_timeout": "'30min'",
                    "maintenance_work_mem": "'256MB'",
                },
            )
            database = create_lgcloud_database(cluster, "lgcloud_bench")
            superuser_url = database.superuser_url
            _django(database.owner_url, work)
            from django.core.management import call_command

            call_command("migrate", interactive=False, verbosity=0)
            version = "PostgreSQL " + str(cluster.connect().execute("SHOW server_version").fetchone()[0])
        from lgcloud.core.tenancy import TenantContext, bound
        from lgcloud.municipalities.actions import load_municipalities, shipped_rows
        from lgcloud.municipalities.queries import get_municipality
        from lgcloud.portability.actions import export_bundle, import_bundle
        from lgcloud.portability.validate import verify_bundle
        from lgcloud.registry import dump

        if get_municipality(TARGET) is None:
            load_municipalities(TenantContext.system(None, purpose="bench"), shipped_rows())
        if args.engine == "postgres":
            _use(database.app_url)  # from here on as the app role: RLS applies
        out(f"# Standard layout export / import — {version}, {date.today().isoformat()}")
        out("")
        out(f"- machine: {_machine()}; load average at start {_load()}")
        out(f"- command: `{command}`")
        if args.engine == "postgres":
            if not args.bundle:
                raise SystemExit("--bundle is required for PostgreSQL (the SQLite run's --keep-bundle)")
            out(f"- the town came in by importing {args.bundle} into 世田谷区 as the app role:")
            out("")
            out("| phase | wall s | CPU s | persons/s | load avg |")
            out("|---|---|---|---|---|")
            with bound(_ctx(SOURCE)):
                persons = dump.counts(_ctx(SOURCE))["person"]
            manifest = json.loads((args.bundle / "manifest.json").read_text(encoding="utf-8"))
            town = next(f["rows"] for f in manifest["files"] if f["entity"] == "person")
            loaded, _ = _timed(out, "import (town load)", town, lambda: import_bundle(_ctx(SOURCE), args.bundle))
            assert loaded.stats is not None, [str(f) for f in loaded.report.findings[:5]]
            with cluster.connect("lgcloud_bench") as conn:  # type: ignore[union-attr]
                conn.execute("VACUUM ANALYZE")
            out("")
        with bound(_ctx(SOURCE)):
            counts = dump.counts(_ctx(SOURCE))
        persons = counts["person"]
        out(
            f"- town: {persons:,} persons, {counts['household']:,} households, {counts['change']:,} 異動, "
            f"{counts['change_record']:,} 異動履歴, {counts['foreign_resident']:,} foreign residents, "
            f"{counts['individual_number']:,} 個人番号"
        )
        out("")
        out("| phase | wall s | CPU s | persons/s | load avg |")
        out("|---|---|---|---|---|")
        a, b = work / "bundle-a", work / "bundle-b"
        _, t_export = _timed(
            out, "export 世田谷区", persons, lambda: export_bundle(_ctx(SOURCE), a, municipality_name="世田谷区")
        )
        report, t_verify = _timed(out, "verify bundle", persons, lambda: verify_bundle(a))
        assert report.ok, [str(f) for f in report.findings[:5]]
        marks: dict[str, float] = {"start": time.perf_counter()}
        result, t_import = _timed(
            out,
            "import into 渋谷区 (verify + write)",
            persons,
            lambda: import_bundle(
                _ctx(TARGET),
                a,
                allow_other_municipality=True,
                on_verified=lambda _r: marks.setdefault("verified", time.perf_counter()),
            ),
        )
        assert result.stats is not None
        t_verified = marks["verified"] - marks["start"]
        if args.engine == "postgres":
            # What autovacuum does after a large import (the app role may not ANALYZE): fresh planner
            # statistics before the next export. Timed on its own, not part of the round trip.
            started = time.perf_counter()
            with cluster.connect("lgcloud_bench") as conn:  # type: ignore[union-attr]
                conn.execute("ANALYZE")
            out(f"| ANALYZE after the import (owner's maintenance, not in the round trip) "
                f"| {time.perf_counter() - started:,.1f} | – | – | {_load()} |")
        _, t_export2 = _timed(
            out, "export 渋谷区", persons, lambda: export_bundle(_ctx(TARGET), b, municipality_name="渋谷区")
        )
        same = all(filecmp.cmp(a / f.name, b / f.name, shallow=False) for f in a.glob("*.csv"))
        if args.engine == "sqlite":
            t_raw = _raw_sqlite(out)
        else:
            t_raw = _raw_postgres(out, superuser_url)
        raw_rate = persons / t_raw
        out(
            f"| raw insert of the same rows ({'executemany' if args.engine == 'sqlite' else 'COPY'}) "
            f"| {t_raw:,.1f} | – | {raw_rate:,.0f} | {_load()} |"
        )
        out("")
        size = sum(p.stat().st_size for p in a.iterdir())
        out(f"- bundle: {size / 1e9:.2f} GB in {len(list(a.iterdir()))} files; round trip byte-identical: **{same}**")
        out(f"- import rate / raw rate: **{(persons / t_import) / raw_rate:.2f}** (goal ≥ 0.50)")
        out(
            f"- round trip (export + import with verification): **{t_export + t_import:,.1f} s** "
            f"(goal < 120 s for 1M residents); with the second export {t_export + t_import + t_export2:,.1f} s"
        )
        out(
            f"- verify alone: {t_verify:,.1f} s (the import runs it in a second process beside its write and "
            f"commits only if it passes; here it finished {t_verified:,.1f} s into the import)"
        )
        if args.keep_bundle:
            if args.keep_bundle.exists():
                shutil.rmtree(args.keep_bundle)
            shutil.move(str(a), args.keep_bundle)
        results = ROOT / "bench" / "results"
        name = f"portability-{date.today().isoformat()}-{args.engine}-{persons}.md"
        (results / name).write_text("\n".join(out.lines) + "\n", encoding="utf-8")
        print(f"wrote bench/results/{name}")
        if cluster is not None:
            cluster.stop()
    finally:
        shutil.rmtree(work, ignore_errors=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
