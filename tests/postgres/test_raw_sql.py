"""The database wall on its own: raw SQL as the app role, for every tenant table the catalog lists.

No application code runs here, so these hold even for a query that forgets its
tenant filter. Each write is made in a transaction that is rolled back, so a
broken wall cannot spoil the session's data for the other tests.
"""

from __future__ import annotations

import psycopg
import pytest
from psycopg import sql

from lgcloud.audit.models import AuditRecord
from lgcloud.core.postgres import APPEND_ONLY_TABLES
from lgcloud.core.tenancy import AUDIT_SEALER_SETTING, IDENTITY_SETTING, PLATFORM_SETTING, TENANT_SETTING

from .catalog import TENANT_COLUMN, rows_by_municipality, tenant_tables, total_rows
from .conftest import CHIYODA, SHINJUKU, RawConnection, as_tenant

A, B = CHIYODA, SHINJUKU
IDENTITY_TABLES = {"accounts_staff", "accounts_staffrole", "accounts_apitoken", "linkage_apiclient"}
AUDIT_TABLES = {"audit_auditrecord", "audit_auditseal", "audit_audittreehead"}
# The app directory (which implementation of which 業務 a municipality uses): the platform reads every
# municipality's choices to route requests and decide requests. It holds no personal data.
DIRECTORY_TABLES = {"municipalities_appchoice"}
RLS_VIOLATION = "new row violates row-level security policy"

RowCounts = dict[str | None, int]  # municipality (None: the platform) -> rows


@pytest.fixture
def truth(superuser_db: RawConnection) -> dict[str, RowCounts]:
    """Rows per municipality in every tenant table, counted by the superuser (outside RLS)."""
    counts = {table: rows_by_municipality(superuser_db, table) for table in tenant_tables(superuser_db)}
    # Both municipalities have rows in every tenant table, so "sees none of B's" is never vacuous.
    empty = {table: c for table, c in counts.items() if not (c.get(A) and c.get(B))}
    assert not empty, f"the seed left tenant tables without rows of both municipalities: {empty}"
    return counts


def test_each_municipality_sees_exactly_its_own_rows(app_db: RawConnection, truth: dict[str, RowCounts]) -> None:
    wrong: dict[tuple[str, str], RowCounts] = {}
    for me in (A, B):
        with as_tenant(app_db, me):
            for table, counts in truth.items():
                seen = rows_by_municipality(app_db, table)
                if seen != {me: counts[me]}:
                    wrong[(me, table)] = seen
    assert wrong == {}


def test_without_the_tenant_setting_no_tenant_row_is_visible(
    app_db: RawConnection, truth: dict[str, RowCounts]
) -> None:
    def visible() -> dict[str, int]:
        return {table: n for table in truth if (n := total_rows(app_db, table))}

    # A fresh connection has never set it: current_setting(..., true) is NULL.
    row = app_db.execute(
        "SELECT current_setting(%s, true), current_setting(%s, true)", [TENANT_SETTING, PLATFORM_SETTING]
    )
    assert row.fetchone() == (None, None)
    assert visible() == {}
    # After a transaction that set it, it has reverted to ''.
    with as_tenant(app_db, A):
        assert visible()
    row = app_db.execute(
        "SELECT current_setting(%s, true), current_setting(%s, true)", [TENANT_SETTING, PLATFORM_SETTING]
    )
    assert row.fetchone() == ("", "")
    assert visible() == {}
    # Set to a municipality that does not exist, or to something that is not a code.
    for value in ("999999", "' OR '1'='1", "%"):
        with as_tenant(app_db, value):
            assert visible() == {}


def _platform_rows_only(counts: RowCounts) -> RowCounts:
    return {None: counts[None]} if counts.get(None) else {}


def test_the_platform_flag_opens_the_operators_own_rows_only(
    app_db: RawConnection, truth: dict[str, RowCounts]
) -> None:
    """The operator's context sees operator accounts, the platform chain and the app directory, nothing else."""
    wrong: dict[str, RowCounts] = {}
    with app_db.transaction(force_rollback=True):
        app_db.execute("SELECT set_config(%s, 'on', true)", [PLATFORM_SETTING])
        for table, counts in truth.items():
            # Residents' data and everything added later: never visible by the platform flag.
            operator_visible = table in IDENTITY_TABLES or table in AUDIT_TABLES
            expected = _platform_rows_only(counts) if operator_visible else {}
            if table in DIRECTORY_TABLES:
                expected = counts
            seen = rows_by_municipality(app_db, table)
            if seen != expected:
                wrong[table] = seen
    assert wrong == {}


@pytest.mark.parametrize(
    ("setting", "tables"),
    [
        # Sign-in needs staff rows before the tenant is known; nothing else may open to it.
        (IDENTITY_SETTING, IDENTITY_TABLES),
        # The audit sealer reads and seals every chain in one pass; nothing but the audit tables opens to it.
        (AUDIT_SEALER_SETTING, AUDIT_TABLES),
    ],
)
def test_a_cross_tenant_flag_opens_its_own_tables_only(
    app_db: RawConnection, truth: dict[str, RowCounts], setting: str, tables: set[str]
) -> None:
    wrong: dict[str, RowCounts] = {}
    with app_db.transaction(force_rollback=True):
        app_db.execute("SELECT set_config(%s, 'on', true)", [setting])
        for table, counts in truth.items():
            expected = counts if table in tables else {}
            seen = rows_by_municipality(app_db, table)
            if seen != expected:
                wrong[table] = seen
    assert wrong == {}


def _insertable_columns(conn: RawConnection, table: str) -> list[str]:
    rows = conn.execute(
        "SELECT attname FROM pg_attribute WHERE attrelid = to_regclass(%s) AND attnum > 0"
        " AND NOT attisdropped AND attidentity = '' AND attgenerated = '' ORDER BY attnum",
        [table],
    ).fetchall()
    return [str(r[0]) for r in rows]


def test_a_municipality_cannot_insert_rows_for_another(app_db: RawConnection, truth: dict[str, RowCounts]) -> None:
    for table in truth:
        columns = _insertable_columns(app_db, table)
        # A copy of one of A's own rows, relabelled as B's. RLS checks the new row
        # before any unique constraint, so copying keys does not get in the way.
        values = [sql.Literal(B) if c == TENANT_COLUMN else sql.Identifier(c) for c in columns]
        statement = sql.SQL("INSERT INTO {t} ({cols}) SELECT {vals} FROM {t} WHERE {key} = {a} LIMIT 1").format(
            t=sql.Identifier(table),
            cols=sql.SQL(", ").join(map(sql.Identifier, columns)),
            vals=sql.SQL(", ").join(values),
            key=sql.Identifier(TENANT_COLUMN),
            a=sql.Literal(A),
        )
        with as_tenant(app_db, A), pytest.raises(psycopg.errors.InsufficientPrivilege, match=RLS_VIOLATION):
            app_db.execute(statement)


def test_a_municipality_cannot_update_or_delete_anothers_rows(
    app_db: RawConnection, superuser_db: RawConnection, truth: dict[str, RowCounts]
) -> None:
    key = sql.Identifier(TENANT_COLUMN)
    for table in sorted(set(truth) - APPEND_ONLY_TABLES):
        t = sql.Identifier(table)
        with as_tenant(app_db, A):
            touch = sql.SQL("UPDATE {t} SET {k} = {k} WHERE {k} = %s").format(t=t, k=key)
            assert app_db.execute(touch, [B]).rowcount == 0, table
            assert app_db.execute(sql.SQL("DELETE FROM {t} WHERE {k} = %s").format(t=t, k=key), [B]).rowcount == 0
            # Without any filter, only A's own rows are touched.
            everything = sql.SQL("UPDATE {t} SET {k} = {k}").format(t=t, k=key)
            assert app_db.execute(everything).rowcount == truth[table][A], table
        # Moving one of A's rows over to B is refused as well.
        move = sql.SQL("UPDATE {t} SET {k} = %s WHERE {k} = %s").format(t=t, k=key)
        with as_tenant(app_db, A), pytest.raises(psycopg.errors.InsufficientPrivilege, match=RLS_VIOLATION):
            app_db.execute(move, [B, A])
    assert {table: rows_by_municipality(superuser_db, table) for table in truth} == truth


@pytest.mark.parametrize(
    "statement",
    [
        "UPDATE audit_auditrecord SET action = 'tampered' WHERE municipality_id = %(own)s",
        "UPDATE audit_auditrecord SET action = 'tampered' WHERE municipality_id = %(other)s",
        "DELETE FROM audit_auditrecord WHERE municipality_id = %(own)s",
        "DELETE FROM audit_auditrecord",
        "TRUNCATE audit_auditrecord",
    ],
)
def test_the_app_role_cannot_rewrite_the_audit_log(app_db: RawConnection, statement: str) -> None:
    assert AuditRecord._meta.db_table == "audit_auditrecord"
    with as_tenant(app_db, A), pytest.raises(psycopg.errors.InsufficientPrivilege, match="permission denied"):
        app_db.execute(statement, {"own": A, "other": B} if "%(" in statement else None)


@pytest.mark.parametrize("table", sorted(APPEND_ONLY_TABLES))
@pytest.mark.parametrize(
    "verb", ["UPDATE {t} SET municipality_id = municipality_id", "DELETE FROM {t}", "TRUNCATE {t}"]
)
def test_history_tables_are_append_only_for_the_app_role(app_db: RawConnection, table: str, verb: str) -> None:
    """異動 and their versions, like the audit log, are corrected by new rows, never rewritten."""
    statement = sql.SQL(verb.replace("{t}", "{}")).format(sql.Identifier(table))
    with as_tenant(app_db, A), pytest.raises(psycopg.errors.InsufficientPrivilege, match="permission denied"):
        app_db.execute(statement)


def test_registry_history_is_append_only() -> None:
    assert {"registry_change", "registry_personversion", "audit_auditrecord"} <= APPEND_ONLY_TABLES
