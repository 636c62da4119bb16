"""Restore one municipality's register from a base backup + WAL archive, leaving the other untouched.

A live cluster archives its WAL; a base backup is taken; afterwards both municipalities change.
The backup is restored into a scratch cluster (recovery from the WAL archive to the end of the
backup), B's bundle is exported from there (portability's export_standard), and
``lgcloud tenant_restore`` puts B's register back as it was at the backup, while A keeps every
change made after it, row for row.
"""

from __future__ import annotations

import json
import shutil
import sys
from pathlib import Path

import psycopg
import pytest

from tests.failover.drill import BIN, _env, _run
from tests.pg_cluster import PgCluster, _free_port, create_lgcloud_database, throwaway_cluster

pytestmark = pytest.mark.postgres

A, B = "131016", "131041"
TABLES = ("registry_household", "registry_person", "registry_change", "registry_personversion")


def _fingerprint(superuser_url: str, lg_code: str) -> dict[str, tuple[int, str]]:
    """Rows and an MD5 over every row (ids included) of each register table, for one municipality."""
    out = {}
    with psycopg.connect(superuser_url) as conn:
        for table in TABLES:
            row = conn.execute(
                f"SELECT count(*), md5(coalesce(string_agg(t::text, '|' ORDER BY t.id), '')) FROM {table} t"  # noqa: S608
                " WHERE municipality_id = %s",
                [lg_code],
            ).fetchone()
            assert row is not None
            out[table] = (int(row[0]), str(row[1]))
    return out


def _register(superuser_url: str, lg_code: str) -> dict[str, list[tuple[object, ...]]]:
    """What the register says, without row ids and write times (a restore writes new rows)."""
    queries = {
        "households": "SELECT household_number, created_on FROM registry_household WHERE municipality_id = %s",
        "persons": "SELECT atena_number, status, record::text FROM registry_person WHERE municipality_id = %s",
        "changes": "SELECT change_number, change_type, effective_date, filed_on, actor_name"
        " FROM registry_change WHERE municipality_id = %s",
        "versions": "SELECT p.atena_number, c.change_number, v.effective_date, v.record::text"
        " FROM registry_personversion v JOIN registry_person p ON p.id = v.person_id"
        " JOIN registry_change c ON c.id = v.change_id WHERE v.municipality_id = %s",
    }
    with psycopg.connect(superuser_url) as conn:
        return {name: sorted(conn.execute(q, [lg_code]).fetchall()) for name, q in queries.items()}


def _restore_backup(live: PgCluster, backup: Path, archive: Path) -> tuple[Path, int]:
    """Start the base backup as a scratch cluster, replayed from the WAL archive to the backup's end."""
    data = live.base / "scratch"
    shutil.copytree(backup, data)
    port = _free_port()
    with (data / "postgresql.auto.conf").open("a") as f:
        f.write(f"port = {port}\n")
        f.write(f"restore_command = 'cp {archive}/%f %p'\n")
        f.write("recovery_target = 'immediate'\nrecovery_target_action = 'promote'\n")
        f.write("archive_mode = off\n")
    (data / "recovery.signal").touch()
    if live.run_as:
        for path in [data, *data.rglob("*")]:
            shutil.chown(path, user=live.run_as, group=live.run_as)
    data.chmod(0o700)
    live.run("pg_ctl", "-D", str(data), "-l", str(live.base / "scratch.log"), "-w", "-t", "60", "start")
    return data, port


def test_one_municipality_is_restored_from_a_backup_and_the_other_keeps_its_later_changes(tmp_path: Path) -> None:
    with throwaway_cluster(durable=True) as live:
        archive = live.base / "archive"
        archive.mkdir()
        if live.run_as:
            shutil.chown(archive, user=live.run_as, group=live.run_as)
        with live.connect() as conn:
            conn.execute("ALTER SYSTEM SET archive_mode = on")
            conn.execute(f"ALTER SYSTEM SET archive_command = 'test ! -f {archive}/%f && cp %p {archive}/%f'")
        live.run("pg_ctl", "-D", str(live.datadir), "-w", "-m", "fast", "restart", "-l", str(live.logfile))
        db = create_lgcloud_database(live, "lgcloud")
        env = _env(db.app_url, tmp_path / "var")
        lgcloud = str(BIN / "lgcloud")
        _run([lgcloud, "migrate", "--no-input", "-v", "0"], {**env, "LGCLOUD_MIGRATE_DATABASE_URL": db.owner_url})
        _run([sys.executable, "-m", "tests.placement.seed", A, B], env)

        def register(lg: str, family: str, n: int) -> list[str]:
            return list(json.loads(_run([sys.executable, "-m", "tests.placement.residents", lg, family, str(n)], env)))

        register(A, "千代田", 2)
        b_before = register(B, "新宿", 3)
        b_at_backup = _register(db.superuser_url, B)

        backup = live.base / "base"
        live.run("pg_basebackup", "-h", str(live.base), "-p", str(live.port), "-U", "postgres",
                 "-D", str(backup), "-X", "none", "-c", "fast")  # fmt: skip

        # After the backup: A's changes are wanted, B's are the mistake to undo.
        register(A, "千代田", 2)
        b_mistakes = register(B, "誤登録", 4)
        a_now = _fingerprint(db.superuser_url, A)
        assert _fingerprint(db.superuser_url, B)["registry_person"][0] == 7

        _, port = _restore_backup(live, backup, archive)
        scratch_url = db.app_url.replace(f":{live.port}/", f":{port}/")
        bundle = tmp_path / "bundle"
        _run(
            [lgcloud, "export_standard", "--municipality", B, "--out", str(bundle), "--no-progress"],
            {**env, "LGCLOUD_DATABASE_URL": scratch_url},
        )
        owner_env = {**env, "LGCLOUD_DATABASE_URL": db.owner_url, "LGCLOUD_TENANT_DIRECTORY_TTL": "0.2"}
        out = _run([lgcloud, "tenant_restore", B, "--bundle", str(bundle)], owner_env)
        assert "identical to the backup's" in out, out

        assert _register(db.superuser_url, B) == b_at_backup  # B's register is as it was at the backup
        assert _fingerprint(db.superuser_url, A) == a_now  # A kept its later changes, untouched
        # No 宛名番号 is given out twice: the numbers of the undone registrations are not reused.
        b_after = register(B, "新宿", 1)
        assert int(b_after[0]) > max(int(n) for n in b_before + b_mistakes)
        with psycopg.connect(db.superuser_url) as conn:
            frozen = conn.execute("SELECT frozen FROM core_tenantplacement WHERE lg_code = %s", [B]).fetchone()
        assert frozen == (False,)  # the freeze was lifted
