"""A 1M-resident synthetic town in one SQLite file, built once and reused by the benefit and tax benchmarks.

    .venv/bin/python bench/town.py --db var/bench/town-1m.sqlite3 --residents 1000000

The residents come from ``registry.generator.generate_town`` (with history) and go in through
``registry.bulk.load_households``, exactly as ``registry_bench.py`` loads them. If the file
already holds residents it is only migrated (new apps' tables are added) and left as it is.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from datetime import date, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

MUNICIPALITY = "131121"  # 世田谷区, as in registry_bench.py
AS_OF = date(2026, 10, 27)  # fixed, so a rebuilt town is the same town


def setup(db: Path) -> None:
    """Point Django at ``db``, migrate it and make sure the municipality exists."""
    db.parent.mkdir(parents=True, exist_ok=True)
    os.environ.update(
        LGCLOUD_ENV="development",
        LGCLOUD_VAR_DIR=str(db.parent),
        DJANGO_SETTINGS_MODULE="lgcloud.settings",
        LGCLOUD_DATABASE_URL=f"sqlite:///{db}",
    )
    import django

    django.setup()
    from django.core.management import call_command

    from lgcloud.core.tenancy import TenantContext
    from lgcloud.municipalities.actions import load_municipalities, shipped_rows
    from lgcloud.municipalities.queries import get_municipality

    call_command("migrate", interactive=False, verbosity=0)
    if get_municipality(MUNICIPALITY) is None:
        load_municipalities(TenantContext.system(None, purpose="bench"), shipped_rows())


def ensure_town(residents: int, seed: int = 0) -> int:
    """Load the town unless it is there; the number of residents."""
    from lgcloud.core.tenancy import TenantContext
    from lgcloud.registry.bulk import LoadStats, count_residents, load_households
    from lgcloud.registry.generator import generate_town

    ctx = TenantContext.system(MUNICIPALITY, purpose="bench.load", actor_name="bench")
    have = count_residents(ctx)
    if have:
        return have
    started = time.perf_counter()

    def progress(stats: LoadStats) -> None:
        if stats.batches % 20 == 0:
            print(f"  loaded {stats.persons:,} in {time.perf_counter() - started:,.0f} s", flush=True)

    stats = load_households(
        ctx,
        generate_town(MUNICIPALITY, residents, seed=seed, as_of=AS_OF - timedelta(days=0), history=True),
        batch_size=5000,
        on_batch=progress,
    )
    print(f"loaded {stats.persons:,} residents in {time.perf_counter() - started:,.0f} s", flush=True)
    return stats.persons


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--db", type=Path, default=ROOT / "var" / "bench" / "town-1m.sqlite3")
    parser.add_argument("--residents", type=int, default=1_000_000)
    args = parser.parse_args()
    setup(args.db.resolve())
    print(f"{ensure_town(args.residents):,} residents in {args.db}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
