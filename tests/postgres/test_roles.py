"""The app's database role: neither superuser nor owner, and nothing more than DML on what it needs."""

from __future__ import annotations

import psycopg
import pytest
from django.conf import settings

from lgcloud.audit.models import AuditRecord, AuditSeal, AuditTreeHead
from lgcloud.core.postgres import APPEND_ONLY_TABLES, POLICY_NAME

from .conftest import RawConnection


def test_the_app_connects_as_a_plain_role(app_db: RawConnection) -> None:
    row = app_db.execute(
        "SELECT current_user, rolsuper, rolbypassrls, rolcreatedb, rolcreaterole"
        " FROM pg_roles WHERE rolname = current_user"
    ).fetchone()
    assert row == (settings.APP_DB_ROLE, False, False, False, False)


def test_the_app_role_owns_nothing_and_cannot_act_as_an_owner(app_db: RawConnection) -> None:
    tables = app_db.execute(
        "SELECT count(*) FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace"
        " WHERE n.nspname = 'public' AND c.relkind IN ('r', 'p', 'v', 'm', 'S')"
    ).fetchone()
    assert tables is not None and tables[0] > 10  # the check below is not vacuous
    # pg_has_role(..., 'MEMBER') is true for the role itself and for any role it belongs to.
    owned = app_db.execute(
        "SELECT c.relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace"
        " WHERE n.nspname = 'public' AND pg_has_role(current_user, c.relowner, 'MEMBER')"
    ).fetchall()
    assert owned == []
    row = app_db.execute(
        "SELECT pg_has_role(current_user, d.datdba, 'MEMBER'), pg_has_role(current_user, n.nspowner, 'MEMBER')"
        " FROM pg_database d, pg_namespace n WHERE d.datname = current_database() AND n.nspname = 'public'"
    ).fetchone()
    assert row == (False, False)  # not the database's owner, nor the public schema's


@pytest.mark.parametrize(
    "statement",
    [
        "ALTER TABLE accounts_staff DISABLE ROW LEVEL SECURITY",
        "ALTER TABLE accounts_staff NO FORCE ROW LEVEL SECURITY",
        f"DROP POLICY {POLICY_NAME} ON accounts_staff",
        "CREATE POLICY lgcloud_open ON accounts_staff USING (true)",
        "CREATE TABLE lgcloud_scratch (id int)",
        "SET ROLE lgcloud_owner",
    ],
)
def test_the_app_role_cannot_change_the_walls(app_db: RawConnection, statement: str) -> None:
    with pytest.raises(psycopg.errors.InsufficientPrivilege), app_db.transaction():
        app_db.execute(statement)


def _privileges(conn: RawConnection, table: str) -> dict[str, bool]:
    kinds = ("SELECT", "INSERT", "UPDATE", "DELETE", "TRUNCATE")
    row = conn.execute(
        "SELECT " + ", ".join(f"has_table_privilege(current_user, %(t)s, '{k}')" for k in kinds), {"t": table}
    ).fetchone()
    assert row is not None
    return dict(zip(kinds, row, strict=True))


@pytest.mark.parametrize("model", [AuditRecord, AuditSeal, AuditTreeHead])
def test_the_audit_log_and_its_seals_are_append_only_for_the_app_role(app_db: RawConnection, model: type) -> None:
    """Records, seals and signed tree heads are only ever inserted: by requests and by the sealer."""
    assert model._meta.db_table in APPEND_ONLY_TABLES
    assert _privileges(app_db, model._meta.db_table) == {
        "SELECT": True,
        "INSERT": True,
        "UPDATE": False,
        "DELETE": False,
        "TRUNCATE": False,
    }


def test_the_app_role_reads_but_never_writes_the_migration_history(app_db: RawConnection) -> None:
    assert _privileges(app_db, "django_migrations") == {
        "SELECT": True,
        "INSERT": False,
        "UPDATE": False,
        "DELETE": False,
        "TRUNCATE": False,
    }
