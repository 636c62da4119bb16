"""Load test: the peak-day mix of the registry API at 10× a Yokohama-size peak, and a noisy neighbour.

    .venv/bin/python bench/loadtest.py --residents 1000000 --neighbour-residents 50000 --duration 60

What runs, all on loopback:

- PostgreSQL 15 in a throwaway cluster (fsync on), migrated as the owner, used by the
  app as the app role under row-level security (as in production);
- municipality A (横浜市 141003, the largest tenant) with ``--residents`` synthetic residents
  and municipality B (鎌倉市 142042) with ``--neighbour-residents``, loaded with
  ``registry.generator.generate_town`` + ``registry.bulk.load_households`` (as
  registry_bench.py does);
- the app on gunicorn with ``deploy/gunicorn.conf.py`` (``--workers`` × ``--threads``);
- locust (``bench/locustfile.py``) sending the peak-day mix per municipality: search,
  view (person, household, history), 異動 (出生, with an Idempotency-Key) and
  certificate (住民票の写し, PDF).

Rates (per second) at 1× are derived in :func:`peak_rates` from
scale-reliability-performance.md §2; the run multiplies them by ``--scale``. Latency is
measured server-side from gunicorn's access log (the time the worker spent on the
request) and client-side by locust; the report gives p50/p95/p99 per operation and
municipality. Results go to bench/results/loadtest-<date>.md.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import re
import secrets
import subprocess
import sys
import tempfile
import time
from collections import defaultdict
from contextlib import suppress
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
BIN = Path(sys.executable).parent
HOST = "127.0.0.1"

BIG = "141003"  # 横浜市
SMALL = "142042"  # 鎌倉市
READ_P95_MS, READ_P99_MS = 150.0, 300.0  # issue 8's goal for reads (server-side)
TYPED = str.maketrans({"髙": "高", "\ufa11": "崎", "\U00020bb7": "吉", "邊": "辺", "邉": "辺", "齋": "斎", "澤": "沢"})

# --- the peak rate ------------------------------------------------------------------------------

YOKOHAMA = 3_769_150  # residents, April 2025 (§2.1)


def peak_rates(residents: int = YOKOHAMA) -> dict[str, float]:
    """Requests per second at the peak hour of the peak day, for a municipality of ``residents``.

    異動: §2.2 derives ~1,000 異動 an hour at the peak for a Yokohama-size tenant
    (national March ≈ 44k movers per business day, peak days 2–3×, Yokohama's share ~3 %).
    Certificates: §2.3 gives ~1.9 certificates per resident a year at the counter (all kinds);
    we take 40 % of them as 住民票の写し/記載事項証明書 [assumption: no source for the split],
    spread over 245 business days, × 5 on the peak day (Ishigaki, §2.2), over an 8.5-hour
    counter day, × 2 in the peak hour (Fukuyama/Sakai, §2.2).
    Search and view: each counter transaction (異動 or certificate) needs about 2 searches
    and 3 views (person, household, history) [assumption].
    """
    share = residents / YOKOHAMA
    change = 1_000 / 3600 * share
    certificates_a_year = residents * 1.9 * 0.40
    certificate = certificates_a_year / 245 * 5 / (8.5 * 3600) * 2
    transactions = change + certificate
    return {"search": 2 * transactions, "view": 3 * transactions, "change": change, "certificate": certificate}


# --- set-up -------------------------------------------------------------------------------------


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


def _log(text: str) -> None:
    print(f"[{datetime.now(UTC):%H:%M:%S}] {text}", flush=True)


def prepare(db: Any, big: int, small: int, var: Path) -> dict[str, Any]:
    """Migrate, create A and B with their residents and a clerk's API token each; sample residents."""
    os.environ.update(
        LGCLOUD_ENV="development",
        LGCLOUD_VAR_DIR=str(var),
        LGCLOUD_DATABASE_URL=db.owner_url,
        DJANGO_SETTINGS_MODULE="tests.settings",
        LGCLOUD_LOG_LEVEL="WARNING",
    )
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", interactive=False, verbosity=0)
    _use_database(db.app_url)
    from django.utils import timezone

    from lgcloud.accounts.actions import create_api_token, create_staff
    from lgcloud.core.permissions import Role
    from lgcloud.core.tenancy import TenantContext
    from lgcloud.municipalities.actions import create_municipality, shipped_rows
    from lgcloud.registry.bulk import load_households
    from lgcloud.registry.generator import generate_town

    rows = {r["lg_code"]: r for r in shipped_rows()}
    tokens: dict[str, str] = {}
    loaded: dict[str, float] = {}
    for lg_code, n in ((BIG, big), (SMALL, small)):
        row = rows[lg_code]
        keys = ("lg_code", "name", "name_kana", "prefecture_code", "prefecture", "county", "kind")
        create_municipality(
            TenantContext.system(None, purpose="bench.load"),
            **{k: row[k] for k in keys},
            kyuchi=row["kyuchi"],
            on_platform=True,
        )
        ctx = TenantContext.system(lg_code, purpose="bench.load", actor_name="bench")
        clerk = create_staff(
            ctx,
            username="bench",
            display_name="負荷 試験",
            roles=[Role.REGISTRY_CLERK],
            password=secrets.token_urlsafe(16),
        )
        tokens[lg_code] = create_api_token(ctx, clerk.staff.pk, name="bench").raw
        started = time.perf_counter()
        town = generate_town(
            lg_code,
            n,
            seed=int(lg_code),
            as_of=timezone.localdate() - timedelta(days=30),
            history=True,
            municipality_name=row["name"],
        )

        def progress(stats: Any, lg: str = lg_code, total: int = n, t0: float = started) -> None:
            if stats.batches % 20 == 0 or stats.persons >= total:
                rate = stats.persons / (time.perf_counter() - t0)
                _log(f"  {lg}: {stats.persons:,}/{total:,} residents, {rate:,.0f}/s")

        load_households(ctx, town, batch_size=5000, on_batch=progress)
        loaded[lg_code] = time.perf_counter() - started
        _log(f"loaded {n:,} residents into {lg_code} in {loaded[lg_code]:.0f} s")
    return {"tokens": tokens, "load_seconds": loaded}


def sample(superuser_url: str, owner_url: str, lg_code: str, n: int = 3000) -> list[dict[str, Any]]:
    import psycopg

    with psycopg.connect(owner_url, autocommit=True) as conn:
        conn.execute("SET statement_timeout = 0")
        for table in ("registry_person", "registry_household", "registry_change", "registry_personversion"):
            conn.execute(f"VACUUM ANALYZE {table}")
    with psycopg.connect(superuser_url) as conn:
        rows = conn.execute(
            "SELECT p.atena_number, h.household_number, p.family_name, p.given_name, p.family_name_kana,"
            " p.given_name_kana, p.birth_date, p.address FROM registry_person p"
            " JOIN registry_household h ON h.id = p.household_id"
            " WHERE p.municipality_id = %s AND p.status = 'resident' AND p.given_name_kana <> ''"
            " ORDER BY random() LIMIT %s",
            [lg_code, n],
        ).fetchall()
    out = []
    for atena, household, family, given, family_kana, given_kana, born, address in rows:
        cut = address.find("丁目")
        out.append(
            {
                "atena": atena,
                "household": household,
                "family_name": family,
                "family_kana": family_kana,
                "full_name": f"{family} {given}",
                "kana_prefix": family_kana + given_kana[:1],
                "name_prefix": (family + given[:1]).translate(TYPED),
                "birth_date": born.isoformat(),
                "address_prefix": address[: cut + 2] if cut > 0 else address[: max(4, len(address) - 4)],
            }
        )
    return out


# --- runs ---------------------------------------------------------------------------------------

LINE = re.compile(r'"(GET|POST) (/api/v1/municipalities/(\d{6})/\S*)" (\d{3}) \S+ (\d+)ms')


def _operation(method: str, path: str) -> str | None:
    tail = path.split("/", 5)[-1] if path.count("/") >= 5 else ""
    if method == "GET" and tail == "persons":
        return "search"
    if method == "GET" and re.fullmatch(r"persons/\d+(/history)?|households/\d+", tail):
        return "view"
    if method == "POST" and tail == "changes/birth":
        return "change"
    if method == "POST" and tail == "certificates":
        return "certificate"
    return None


@dataclass
class RunResult:
    name: str
    planned: dict[str, dict[str, float]]
    duration: float
    server: dict[tuple[str, str], list[float]]  # (lg, op) -> ms
    statuses: dict[tuple[str, str], dict[str, int]]
    client_csv: str
    load_average: str


def _server_times(log_text: str) -> tuple[dict[tuple[str, str], list[float]], dict[tuple[str, str], dict[str, int]]]:
    times: dict[tuple[str, str], list[float]] = defaultdict(list)
    statuses: dict[tuple[str, str], dict[str, int]] = defaultdict(lambda: defaultdict(int))
    for m in LINE.finditer(log_text):
        method, path, lg, status, ms = m.groups()
        op = _operation(method, path)
        if op is None:
            continue
        statuses[(lg, op)][status] += 1
        if status.startswith("2"):
            times[(lg, op)].append(float(ms))
    return times, statuses


def run_locust(name: str, port: int, log: Path, plan: dict[str, Any], duration: int, work: Path) -> RunResult:
    plan_file = work / f"plan-{name}.json"
    plan_file.write_text(json.dumps(plan, ensure_ascii=False))
    users = sum(
        max(1, -(-rate // plan["per_user_rate"])) for t in plan["tenants"] for rate in t["rates"].values() if rate > 0
    )
    start_offset = log.stat().st_size
    csv_prefix = work / f"locust-{name}"
    args = [
        str(BIN / "locust"),
        "-f",
        str(ROOT / "bench" / "locustfile.py"),
        "--headless",
        "-u",
        str(int(users)),
        "-r",
        str(int(users)),
        "-t",
        f"{duration}s",
        "--host",
        f"http://{HOST}:{port}",
        "--csv",
        str(csv_prefix),
        "--only-summary",
        "--stop-timeout",
        "30",
    ]
    _log(f"run {name}: {int(users)} users for {duration} s")
    env = {**os.environ, "LOADTEST_PLAN": str(plan_file)}
    done = subprocess.run(  # noqa: S603  (our own locust, our own arguments)
        args, env=env, capture_output=True, text=True, timeout=duration + 300, check=False
    )
    loadavg = " / ".join(f"{x:.1f}" for x in os.getloadavg())
    time.sleep(1.0)
    with log.open("rb") as f:
        f.seek(start_offset)
        text = f.read().decode("utf-8", errors="replace")
    server, statuses = _server_times(text)
    stats_csv = Path(f"{csv_prefix}_stats.csv")
    client = stats_csv.read_text() if stats_csv.exists() else done.stdout[-4000:] + done.stderr[-4000:]
    planned = {t["lg_code"]: t["rates"] for t in plan["tenants"]}
    return RunResult(name, planned, float(duration), server, statuses, client, loadavg)


def _pct(values: list[float], p: float) -> float:
    ordered = sorted(values)
    k = max(0, min(len(ordered) - 1, round(p / 100 * len(ordered) + 0.5) - 1))
    return ordered[k]


def render(result: RunResult) -> list[str]:
    lines = [
        f"#### {result.name}",
        "",
        f"Load average at the end: {result.load_average}. Server-side times from gunicorn's access log "
        "(successful answers only).",
        "",
        "| municipality | operation | planned /s | achieved /s | answers (status: count)"
        " | p50 ms | p95 ms | p99 ms | read goal |",
        "|---|---|---:|---:|---|---:|---:|---:|---|",
    ]
    for lg, rates in result.planned.items():
        for op, rate in rates.items():
            if rate <= 0:
                continue
            ms = result.server.get((lg, op), [])
            st = dict(result.statuses.get((lg, op), {}))
            achieved = sum(st.values()) / result.duration
            if ms:
                p50, p95, p99 = _pct(ms, 50), _pct(ms, 95), _pct(ms, 99)
                goal = "–"
                if op in ("search", "view"):
                    goal = "met" if p95 < READ_P95_MS and p99 < READ_P99_MS else "**missed**"
                lines.append(
                    f"| {lg} | {op} | {rate:.2f} | {achieved:.2f} | {st} | {p50:.0f} | {p95:.0f} | {p99:.0f} | {goal} |"
                )
            else:
                lines.append(f"| {lg} | {op} | {rate:.2f} | {achieved:.2f} | {st} | – | – | – | – |")
    lines += [
        "",
        "<details><summary>locust (client-side) statistics</summary>",
        "",
        "```",
        result.client_csv.strip(),
        "```",
        "</details>",
        "",
    ]
    return lines


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--residents", type=int, default=1_000_000, help="residents of municipality A")
    parser.add_argument("--neighbour-residents", type=int, default=50_000, help="residents of municipality B")
    parser.add_argument("--scale", type=float, default=10.0, help="multiple of the peak rate for A")
    parser.add_argument(
        "--neighbour-rate", type=float, default=6.0, help="requests/s of B (the peak-day mix), in every run"
    )
    parser.add_argument("--duration", type=int, default=60, help="seconds per run")
    parser.add_argument("--workers", type=int, default=4)
    parser.add_argument("--threads", type=int, default=4)
    parser.add_argument(
        "--runs", default="baseline,peak", help="solo (B alone), baseline (A at 1×), peak (A at --scale ×)"
    )
    parser.add_argument(
        "--caps",
        default="0",
        help="LGCLOUD_TENANT_MAX_INFLIGHT values to run every run with (0: no per-municipality cap)",
    )
    parser.add_argument("--out", type=Path, default=ROOT / "bench" / "results")
    args = parser.parse_args()
    command = "python bench/loadtest.py " + " ".join(sys.argv[1:])

    from tests.pg_cluster import create_lgcloud_database, throwaway_cluster

    work = Path(tempfile.mkdtemp(prefix="lgcloud-load-"))
    settings = {
        "shared_buffers": "'2GB'",
        "max_wal_size": "'8GB'",
        "checkpoint_timeout": "'30min'",
        "maintenance_work_mem": "'256MB'",
        "work_mem": "'16MB'",
        "max_connections": "200",
    }
    report: list[str] = []
    with throwaway_cluster(durable=True, settings=settings) as cluster:
        db = create_lgcloud_database(cluster, "lgcloud_load")
        _log(f"cluster on port {cluster.port}; loading")
        prepared = prepare(db, args.residents, args.neighbour_residents, work / "var")
        samples = {lg: sample(db.superuser_url, db.owner_url, lg) for lg in (BIG, SMALL)}
        _log("sampled residents; starting gunicorn")
        big_rates = peak_rates()
        mix_total = sum(big_rates.values())
        small_rates = {op: r / mix_total * args.neighbour_rate for op, r in big_rates.items()}
        from tests.failover.drill import gunicorn

        env = {k: v for k, v in os.environ.items() if not k.startswith(("LGCLOUD_", "DJANGO_"))}
        env.update(
            LGCLOUD_ENV="development",
            LGCLOUD_VAR_DIR=str(work / "var"),
            LGCLOUD_DATABASE_URL=db.app_url,
            DJANGO_SETTINGS_MODULE="tests.settings",
            PYTHONPATH=f"{ROOT / 'src'}:{ROOT}",
            LGCLOUD_LOG_LEVEL="WARNING",
            LGCLOUD_GUNICORN_LOG_LEVEL="warning",
        )
        today = date.today()
        base_plan = {
            "per_user_rate": 1.0,
            "birth_date": (today - timedelta(days=3)).isoformat(),
            "filed_on": today.isoformat(),
        }

        def tenants(scale: float) -> list[dict[str, Any]]:
            return [
                {
                    "lg_code": BIG,
                    "token": prepared["tokens"][BIG],
                    "samples": samples[BIG],
                    "rates": {op: r * scale for op, r in big_rates.items()},
                },
                {"lg_code": SMALL, "token": prepared["tokens"][SMALL], "samples": samples[SMALL], "rates": small_rates},
            ]

        results = []
        scales = {"solo": 0.0, "baseline": 1.0, "peak": args.scale}
        for cap in args.caps.split(","):
            log = work / f"gunicorn-cap{cap}.log"
            with gunicorn({**env, "LGCLOUD_TENANT_MAX_INFLIGHT": cap}, log, args.workers, args.threads) as port:
                for name in args.runs.split(","):
                    scale = scales[name]
                    limit = f"per-municipality cap {cap} per worker" if cap != "0" else "no per-municipality cap"
                    title = f"{name}: A at {scale:g}× the peak, B at {args.neighbour_rate:g} req/s; {limit}"
                    plan = {**base_plan, "tenants": tenants(scale)}
                    results.append(run_locust(f"{name}-cap{cap}", port, log, plan, args.duration, work))
                    results[-1].name = title
        started = datetime.now(UTC)
        report += [
            f"# Load test {started:%Y-%m-%d}: registry API, peak-day mix",
            "",
            f"Command: `{command}`",
            f"Machine: {os.cpu_count()} vCPU, {platform.system()} {platform.release()}; PostgreSQL 15 "
            "(throwaway cluster, fsync on, shared_buffers 2 GB), app role under RLS; gunicorn "
            f"{args.workers} workers × {args.threads} threads (deploy/gunicorn.conf.py); locust on the same machine.",
            f"Data: A = 横浜市 {BIG} with **{args.residents:,}** synthetic residents (with history); "
            f"B = 鎌倉市 {SMALL} with {args.neighbour_residents:,}. "
            f"Load time: {', '.join(f'{k} {v:.0f} s' for k, v in prepared['load_seconds'].items())}.",
            "",
            "Peak rates at 1× for a Yokohama-size tenant (3.77 M residents; derivation in `peak_rates`): "
            + ", ".join(f"{op} {r:.2f}/s" for op, r in big_rates.items())
            + f" = {mix_total:.1f}/s. B runs the same mix at {args.neighbour_rate:g}/s in total.",
            "",
        ]
        for r in results:
            report += render(r)
    args.out.mkdir(parents=True, exist_ok=True)
    runs, caps = args.runs.replace(",", "-"), args.caps.replace(",", "-")
    path = args.out / f"loadtest-{started:%Y-%m-%d}-{args.residents}-{runs}-caps{caps}.md"
    path.write_text("\n".join(report) + "\n")
    print("\n".join(report))
    _log(f"wrote {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
