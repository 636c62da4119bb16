"""Restore one municipality's register from a backup, without touching the other municipalities.

Restoring a whole cluster would roll every municipality on it back to the backup.
Instead the operator restores the base backup (plus WAL up to the chosen time) into a
*scratch* cluster and takes the municipality's bundle from there with portability's
export, then puts that bundle in place of the live register::

    LGCLOUD_DATABASE_URL=<scratch cluster> lgcloud export_standard --municipality 131041 --out /restore/131041
    LGCLOUD_DATABASE_URL=<live cluster, as the owner role> lgcloud tenant_restore 131041 --bundle /restore/131041

The second command connects as the **owner role**: the register's history tables are
append-only for the app role, so only the owner may take the current rows out. It

1. freezes the municipality's writes (as for a move) and waits for writes in flight;
2. in one transaction: deletes the municipality's register rows (households, persons,
   異動, versions, 支援措置, kiosk credentials) and its idempotency keys, then imports
   the bundle (verified first). Number sequences are only ever raised, so no 宛名番号
   or 異動番号 issued after the backup is given out again;
3. verifies: exports the register again and compares every data file's SHA-256 with
   the bundle; no other municipality's rows are read or written (each statement is
   bound to this municipality, under row-level security);
4. lifts the freeze.

The audit log is not rolled back (it records what happened, the restore included),
and issued certificates stay recorded.
"""

from __future__ import annotations

import shutil
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from django.conf import settings

from lgcloud.core import placement
from lgcloud.core.placement import tenant_connection
from lgcloud.core.tenancy import TenantContext, bound
from lgcloud.municipalities.queries import get_municipality
from lgcloud.portability.actions import export_bundle, import_bundle
from lgcloud.portability.bundle import read_manifest

from .placement import MoveError, _data_files, _drain, counts

# Children first: the foreign keys point from the later tables to the earlier ones.
REGISTER_TABLES = (
    "registry_kioskcredential",
    "registry_protectionorder",
    "registry_personversion",
    "registry_change",
    "registry_person",
    "registry_household",
    "core_idempotencykey",
)


@dataclass
class RestoreReport:
    lg_code: str
    source: str
    removed: dict[str, int] = field(default_factory=dict)
    restored: dict[str, int] = field(default_factory=dict)
    files_compared: int = 0
    frozen_seconds: float = 0.0
    steps: list[str] = field(default_factory=list)


def restore_municipality(
    lg_code: str,
    bundle: Path,
    *,
    freeze: bool = True,
    work_dir: Path | None = None,
    settle_seconds: float | None = None,
    log: Callable[[str], None] = lambda _m: None,
) -> RestoreReport:
    municipality = get_municipality(lg_code)
    if municipality is None:
        raise MoveError(f"団体コード {lg_code} は団体の一覧にありません。")
    wanted = _data_files(read_manifest(bundle))
    ctx = TenantContext.system(lg_code, purpose="ops.tenant_restore", actor_name="tenant_restore")
    report = RestoreReport(lg_code, str(bundle))
    settle = settings.TENANT_DIRECTORY_TTL + 0.5 if settle_seconds is None else settle_seconds
    work = Path(tempfile.mkdtemp(prefix=f"lgcloud-restore-{lg_code}-", dir=work_dir))
    frozen_at = time.monotonic()
    if freeze:
        placement.set_frozen(lg_code, True)
    try:
        if freeze:
            time.sleep(settle)
            _drain(ctx, placement.DEFAULT)
            report.steps.append(f"frozen and drained ({settle:.1f} s to settle)")
            log(report.steps[-1])
        with bound(ctx):
            with tenant_connection().cursor() as cursor:
                for table in REGISTER_TABLES:
                    cursor.execute(f"DELETE FROM {table} WHERE municipality_id = %s", [lg_code])  # noqa: S608
                    report.removed[table] = cursor.rowcount
            imported = import_bundle(ctx, bundle)
            if imported.stats is None:
                problems = "; ".join(f"{f.file}:{f.line} {f.reason}" for f in imported.report.findings[:5])
                # Raising rolls the deletes back with the import: the live register stays as it was.
                raise MoveError(f"バックアップの出力の検証で問題が見つかりました: {problems}")
        report.steps.append(f"replaced the register: removed {sum(report.removed.values()):,} rows")
        log(report.steps[-1])
        again = export_bundle(ctx, work / "verify", municipality_name=municipality.name)
        found = _data_files(again.manifest)
        if found != wanted:
            differing = sorted(n for n in set(found) | set(wanted) if found.get(n) != wanted.get(n))
            raise MoveError(f"復元後に出力し直したファイルがバックアップと一致しません: {', '.join(differing)}")
        report.files_compared = len(found)
        report.restored = counts(ctx, placement.DEFAULT)
        report.steps.append(f"verified: {len(found)} files identical to the backup's (SHA-256)")
        log(report.steps[-1])
        return report
    finally:
        if freeze:
            placement.set_frozen(lg_code, False)
        report.frozen_seconds = time.monotonic() - frozen_at
        shutil.rmtree(work, ignore_errors=True)
