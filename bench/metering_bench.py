"""The cost of usage metering per request, as a ratio to the request's own CPU.

Runs lgcloud in this process on a throwaway SQLite database with a synthetic town, signs in a
registry clerk, and serves real requests through Django's whole request handling (the same
middleware as production) with the test client:

1. **Request CPU**: the thread CPU of each request of a mix (the registry search page, a 住民票
   page, an API read, the dashboard), with the metering middleware removed from the stack.
2. **Metering CPU per request**: what the middleware adds — the context variable of the
   attribution, the 業務 look-up, the tally's additions under its lock, the Prometheus counters
   and the raw record line — timed by replaying each request's own bookkeeping (same request,
   same response) many times; plus the flush (the tally written to the database) divided by the
   requests it covers.
3. **A/B**: the same mix with and without the middleware, mean CPU per request (noisy on a
   shared machine; the replay in 2 is the precise figure).

The result is printed; with ``--out DIR`` it is also written there as Markdown. It refuses to run
while the machine is busy (load average above ``--max-load``) unless ``--force``.
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import sys
import tempfile
import time
from datetime import date, timedelta
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

MUNICIPALITY = "131016"  # 千代田区
METERING = "lgcloud.ops.metering.MeteringMiddleware"


def _machine() -> str:
    cpu = "?"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return f"{os.cpu_count()} vCPU {cpu}, {platform.system()} {platform.release()}, Python {platform.python_version()}"


def _setup(residents: int) -> tuple[Any, list[str]]:
    from django.conf import settings
    from django.core.management import call_command
    from django.test import Client
    from django.utils import timezone

    from lgcloud.accounts.actions import create_staff
    from lgcloud.core.permissions import Role
    from lgcloud.core.tenancy import TenantContext
    from lgcloud.municipalities.actions import load_municipalities, shipped_rows, update_municipality
    from lgcloud.registry.bulk import load_households
    from lgcloud.registry.generator import generate_town

    settings.ALLOWED_HOSTS = [*settings.ALLOWED_HOSTS, "testserver"]
    call_command("migrate", interactive=False, verbosity=0)
    platform_ctx = TenantContext.system(None, purpose="bench")
    load_municipalities(platform_ctx, shipped_rows())
    update_municipality(platform_ctx, MUNICIPALITY, on_platform=True)
    ctx = TenantContext.system(MUNICIPALITY, purpose="bench")
    today = timezone.localdate()
    load_households(ctx, generate_town(MUNICIPALITY, residents, seed=7, as_of=today - timedelta(days=30)))
    staff = create_staff(
        ctx,
        username="bench",
        display_name="計測 太郎",
        roles=[Role.REGISTRY_CLERK],
        password="bench-password-123",  # noqa: S106  (a throwaway database)
    ).staff
    client = Client()
    client.force_login(staff, backend="lgcloud.accounts.backends.StaffBackend")
    found = client.get(f"/api/v1/municipalities/{MUNICIPALITY}/persons", {"name": "田"}).json()
    atena = [p["atena_number"] for p in found.get("items", [])] or ["0000000001"]
    return client, atena


def _mix(atena: list[str], n: int) -> list[str]:
    paths = []
    for i in range(n):
        paths.append(
            (
                "/registry/?name=田",
                f"/registry/persons/{atena[i % len(atena)]}/",
                f"/api/v1/municipalities/{MUNICIPALITY}/persons/{atena[i % len(atena)]}",
                "/dashboard/",
            )[i % 4]
        )
    return paths


def _serve(client: Any, paths: list[str]) -> list[int]:
    """Thread CPU (ns) of each request."""
    out = []
    for path in paths:
        started = time.thread_time_ns()
        response = client.get(path)
        out.append(time.thread_time_ns() - started)
        if response.status_code >= 400:
            raise SystemExit(f"{path}: HTTP {response.status_code}")
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--requests", type=int, default=2000, help="requests per measurement (default 2000)")
    parser.add_argument("--residents", type=int, default=20000, help="residents of the synthetic town")
    parser.add_argument("--replays", type=int, default=50, help="replays of each request's bookkeeping")
    parser.add_argument("--max-load", type=float, default=0.5, help="refuse when the 1-minute load is above this")
    parser.add_argument("--force", action="store_true", help="run even when the machine is busy")
    parser.add_argument("--out", type=Path, help="also write the result as Markdown into this folder")
    args = parser.parse_args()
    load = os.getloadavg()[0]
    if load > args.max_load and not args.force:
        raise SystemExit(f"load average {load:.2f} > {args.max_load}: the figure would be noise (use --force)")
    command = "    .venv/bin/python bench/metering_bench.py " + " ".join(sys.argv[1:])

    with tempfile.TemporaryDirectory(prefix="lgcloud-metering-bench-") as tmp:
        var = Path(tmp)
        os.environ.update(
            LGCLOUD_ENV="development",
            LGCLOUD_VAR_DIR=str(var),
            LGCLOUD_DATABASE_URL=f"sqlite:///{var / 'bench.sqlite3'}",
            LGCLOUD_USAGE_FLUSH_SECONDS="0",  # the bench flushes when it measures the flush
            LGCLOUD_USAGE_LOG_DIR=str(var / "usage"),
            DJANGO_SETTINGS_MODULE="lgcloud.settings",
        )
        import django

        django.setup()
        from django.conf import settings
        from django.test import override_settings

        from lgcloud.core import usage as attribution
        from lgcloud.ops import metering

        print(f"setting up: {args.residents:,} residents …", flush=True)
        client, atena = _setup(args.residents)
        paths = _mix(atena, args.requests)
        _serve(client, paths[: min(200, len(paths))])  # warm caches, the connection, templates

        # 1. request CPU without metering; 3. A/B
        without_mw = [m for m in settings.MIDDLEWARE if m != METERING]
        with override_settings(MIDDLEWARE=without_mw):
            bare = _serve(client, paths)
        metering.TALLY.drain()
        metered = _serve(client, paths)

        # 2. the bookkeeping of each request, replayed
        captured: list[tuple[Any, Any]] = []
        original = metering.MeteringMiddleware.__call__

        def capture(self: Any, request: Any) -> Any:
            response = original(self, request)
            captured.append((request, response))
            return response

        metering.MeteringMiddleware.__call__ = capture  # type: ignore[method-assign]
        _serve(client, paths[: min(len(paths), 400)])
        metering.MeteringMiddleware.__call__ = original  # type: ignore[method-assign]
        metering.TALLY.drain()
        started = time.thread_time_ns()
        for _ in range(args.replays):
            for request, response in captured:
                cpu0, wall0 = time.thread_time_ns(), time.perf_counter_ns()
                _noted, token = attribution.begin()
                attribution.note(MUNICIPALITY)
                attribution.end(token)
                ctx = getattr(request, "tenant_ctx", None)
                match = request.resolver_match
                metering.TALLY.request(
                    lg_code=ctx.lg_code if ctx is not None else MUNICIPALITY,
                    gyomu=metering.gyomu_of(match),
                    kind=metering.request_kind(request),
                    status=response.status_code,
                    cpu_ns=time.thread_time_ns() - cpu0,
                    wall_ns=time.perf_counter_ns() - wall0,
                    request_id=request.request_id,
                    route=match.view_name,
                )
        replayed = len(captured) * args.replays
        bookkeeping_ns = (time.thread_time_ns() - started) / replayed
        started = time.thread_time_ns()
        metering.flush()
        flush_ns = (time.thread_time_ns() - started) / replayed

    request_ns = statistics.mean(bare)
    per_request = bookkeeping_ns + flush_ns
    lines = [
        "# Metering overhead per request",
        "",
        f"- machine: {_machine()}; load average at start {load:.2f}",
        f"- command:\n\n{command}\n",
        f"- town: {args.residents:,} residents; {args.requests:,} requests per run (search page, 住民票 page, "
        "API read, dashboard in turn), SQLite",
        "",
        "| measure | value |",
        "|---|---|",
        f"| request CPU without metering (mean / median) | {request_ns / 1e3:,.0f} µs"
        f" / {statistics.median(bare) / 1e3:,.0f} µs |",
        f"| request CPU with metering (mean) | {statistics.mean(metered) / 1e3:,.0f} µs |",
        f"| metering bookkeeping per request (replayed {replayed:,} times) | {bookkeeping_ns / 1e3:,.1f} µs |",
        f"| flush per request (one flush of {replayed:,} requests) | {flush_ns / 1e3:,.2f} µs |",
        f"| **overhead ratio** (bookkeeping + flush) ÷ request CPU | **{per_request / request_ns:.2%}** |",
        f"| A/B ratio (mean with ÷ mean without − 1; noisy) | {statistics.mean(metered) / request_ns - 1:+.2%} |",
        "",
    ]
    text = "\n".join(lines)
    print(text)
    if args.out:
        args.out.mkdir(parents=True, exist_ok=True)
        path = args.out / f"metering-{date.today().isoformat()}.md"
        path.write_text(text, encoding="utf-8")
        print(f"written to {path}")


if __name__ == "__main__":
    main()
