"""Placing municipalities on clusters and moving one between clusters (the operator's side of core.placement).

A move copies the municipality's register with the standard-layout bundle
(lgcloud.portability) and verifies it before the directory changes:

1. **freeze**: writes to the municipality are refused (503 ``tenant_moving``); wait until
   every worker has seen it (the directory TTL), then wait on the source until every
   transaction that was writing at that moment has ended (writes already in flight);
2. **export** from the source cluster (one consistent snapshot);
3. **import** into the target cluster (verified bundle, one transaction, into an empty
   municipality);
4. **verify**: export again from the target and compare every data file's SHA-256 with
   the first export; compare the row counts; check that the source did not change
   since the freeze (no late write);
5. **switch** the directory to the target and lift the freeze.

If anything fails before the switch, the freeze is lifted and the municipality stays
where it was (the target may hold a partial copy only if the failure came after the
import's commit; the report says so). The source keeps its copy until the operator
purges it.

What the bundle does not carry stays on the source cluster: the audit log, issued
certificates, kiosk credentials and idempotency keys (docs/operations.md).
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from django.conf import settings
from django.db import connections

from lgcloud.core import placement
from lgcloud.core.tenancy import TenantContext, bound
from lgcloud.municipalities.queries import get_municipality
from lgcloud.portability.bundle import read_manifest

# The register as the bundle carries it: these must match between source and target.
COUNTED_TABLES = (
    "registry_household",
    "registry_person",
    "registry_change",
    "registry_personversion",
    "registry_protectionorder",
)


class MoveError(Exception):
    """The move stopped; the municipality stays on its source cluster (message in Japanese)."""


@dataclass
class MoveReport:
    lg_code: str
    source: str
    target: str
    counts: dict[str, int] = field(default_factory=dict)
    files_compared: int = 0
    frozen_seconds: float = 0.0
    steps: list[str] = field(default_factory=list)


def ensure_municipality(lg_code: str, alias: str) -> None:
    """The municipality's directory row must exist on a cluster before its tenant rows can (foreign key)."""
    if alias == placement.DEFAULT:
        return
    municipality = get_municipality(lg_code)
    if municipality is None:
        raise MoveError(f"団体コード {lg_code} は団体の一覧にありません。")
    manager = type(municipality)._default_manager.using(alias)
    if not manager.filter(lg_code=lg_code).exists():
        municipality.save(using=alias, force_insert=True)


def place(lg_code: str, cluster: str) -> None:
    """Put a municipality that has no data yet on ``cluster``."""
    ensure_municipality(lg_code, cluster)
    placement.place(lg_code, cluster)


def counts(ctx: TenantContext, alias: str) -> dict[str, int]:
    """Rows of the municipality's register on ``alias`` (read under its row-level security)."""
    found: dict[str, int] = {}
    with placement.using(alias), bound(ctx), connections[alias].cursor() as cursor:
        for table in COUNTED_TABLES:
            cursor.execute(f"SELECT count(*) FROM {table} WHERE municipality_id = %s", [ctx.tenant_code])  # noqa: S608
            found[table] = int(cursor.fetchone()[0])
    return found


DRAIN_TIMEOUT = 120.0


def _drain(ctx: TenantContext, alias: str, timeout: float = DRAIN_TIMEOUT) -> None:
    """Wait for writes in flight: until every transaction that held a transaction id now has ended.

    Appends to the audit log take no shared lock (audit.actions.record), so there is no
    per-municipality lock to wait on; PostgreSQL's snapshot says which transactions are
    still writing, in any municipality of the cluster, so this may also wait for another
    municipality's long batch (hence the timeout). A write that starts later was refused
    by the freeze, and the move's last check (no change since the freeze) catches the rest.
    """
    conn = connections[alias]
    if conn.vendor != "postgresql":
        return  # SQLite runs one writer at a time: nothing is in flight between statements
    with placement.using(alias), conn.cursor() as cursor:
        cursor.execute("SELECT pg_snapshot_xmax(pg_current_snapshot())::text::bigint")
        horizon = int(cursor.fetchone()[0])
        deadline = time.monotonic() + timeout
        while True:
            cursor.execute("SELECT pg_snapshot_xmin(pg_current_snapshot())::text::bigint")
            if int(cursor.fetchone()[0]) >= horizon:
                return
            if time.monotonic() > deadline:
                raise MoveError(
                    f"{ctx.tenant_code}: 書込み中の処理が {timeout:.0f} 秒以内に終わりませんでした。"
                    "時間をおいてやり直してください。"
                )
            time.sleep(0.05)


def cluster_url(alias: str) -> str:
    """The URL a cluster alias was configured with (LGCLOUD_DATABASE_URL or LGCLOUD_TENANT_CLUSTERS)."""
    if alias == placement.DEFAULT:
        return str(settings.DATABASE_URL)
    return str(settings.TENANT_CLUSTERS[alias])


def run_lgcloud(alias: str, *args: str) -> str:
    """An lgcloud command in a process of its own whose default database is the cluster ``alias``.

    The export and import code reads and writes through Django's default connection
    (raw SQL included), so each runs where that connection is the cluster it works on.
    """
    env = {**os.environ, "LGCLOUD_DATABASE_URL": cluster_url(alias), "LGCLOUD_TENANT_CLUSTERS": ""}
    env.pop("LGCLOUD_MIGRATE_DATABASE_URL", None)
    done = subprocess.run(  # noqa: S603  (our own command line)
        [sys.executable, "-m", "lgcloud", *args], env=env, capture_output=True, text=True, check=False
    )
    if done.returncode != 0:
        raise MoveError(f"{args[0]} ({alias}) が失敗しました: {(done.stderr or done.stdout).strip()[-1500:]}")
    return done.stdout


def export_from(alias: str, lg_code: str, out: Path) -> dict[str, Any]:
    """The municipality's bundle from cluster ``alias`` (portability's export_standard); returns its manifest."""
    run_lgcloud(alias, "export_standard", "--municipality", lg_code, "--out", str(out), "--no-progress")
    return read_manifest(out)


def _data_files(manifest: dict[str, Any]) -> dict[str, str]:
    files = manifest.get("files")
    if not isinstance(files, list):
        return {}
    return {str(f["file"]): str(f["sha256"]) for f in files if isinstance(f, dict)}


def move_municipality(
    lg_code: str,
    target: str,
    *,
    work_dir: Path | None = None,
    settle_seconds: float | None = None,
    log: Callable[[str], None] = lambda _m: None,
) -> MoveReport:
    source = placement.placement(lg_code, fresh=True).cluster
    if target not in placement.clusters():
        raise MoveError(f"移設先 {target} は設定されていません（{', '.join(placement.clusters())}）。")
    if source == target:
        raise MoveError(f"{lg_code} はすでに {target} にあります。")
    municipality = get_municipality(lg_code)
    if municipality is None:
        raise MoveError(f"団体コード {lg_code} は団体の一覧にありません。")
    report = MoveReport(lg_code, source, target)
    ctx = TenantContext.system(lg_code, purpose="ops.tenant_move", actor_name="tenant_move")
    settle = settings.TENANT_DIRECTORY_TTL + 0.5 if settle_seconds is None else settle_seconds
    work = Path(tempfile.mkdtemp(prefix=f"lgcloud-move-{lg_code}-", dir=work_dir))
    ensure_municipality(lg_code, target)
    if any(counts(ctx, target).values()):
        raise MoveError(f"移設先 {target} にすでに {lg_code} の住民記録があります。")
    placement.set_frozen(lg_code, True)
    frozen_at = time.monotonic()
    switched = False
    try:
        time.sleep(settle)  # every worker now refuses writes to the municipality
        _drain(ctx, source)
        before = counts(ctx, source)
        report.steps.append(f"frozen and drained ({settle:.1f} s to settle)")
        log(report.steps[-1])
        exported = export_from(source, lg_code, work / "export")
        report.steps.append(f"exported {sum(int(f['rows']) for f in exported['files']):,} rows from {source}")
        log(report.steps[-1])
        run_lgcloud(target, "import_standard", "--municipality", lg_code, str(work / "export"), "--no-progress")
        report.steps.append(f"imported into {target}")
        log(report.steps[-1])
        again = export_from(target, lg_code, work / "verify")
        first, second = _data_files(exported), _data_files(again)
        if first != second:
            differing = sorted(n for n in set(first) | set(second) if first.get(n) != second.get(n))
            raise MoveError(f"移設先から出力し直したファイルが一致しません: {', '.join(differing)}")
        report.files_compared = len(first)
        after_target, after_source = counts(ctx, target), counts(ctx, source)
        if after_target != before:
            raise MoveError(f"件数が一致しません: 移設元 {before}, 移設先 {after_target}")
        if after_source != before:
            raise MoveError("凍結中に移設元で書込みがありました。移設を中止します。")
        report.counts = before
        report.steps.append(f"verified: {len(first)} files identical (SHA-256), counts equal, source unchanged")
        log(report.steps[-1])
        placement.place(lg_code, target)  # the switch; also lifts the freeze
        switched = True
        report.frozen_seconds = time.monotonic() - frozen_at
        report.steps.append(f"directory: {lg_code} → {target}; writes open again")
        log(report.steps[-1])
        return report
    finally:
        if not switched:
            placement.set_frozen(lg_code, False)
        shutil.rmtree(work, ignore_errors=True)
