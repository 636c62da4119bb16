"""What the PostgreSQL catalog says about tenant tables and their row-level security.

pg_catalog rather than information_schema: information_schema hides the
columns of tables the current role has no privilege on, which would let an
ungranted tenant table slip past the guard.
"""

from __future__ import annotations

from typing import Any

import psycopg
from psycopg import sql

TENANT_COLUMN = "municipality_id"
MUNICIPALITY_TABLE = "municipalities_municipality"

# Tables (r), partitioned tables (p), views (v) and materialized views (m) in
# public that carry the tenant column or reference the municipality table.
_TENANT_RELATIONS = """
SELECT c.oid::regclass::text AS name, c.relkind::text AS kind
FROM pg_class c
JOIN pg_namespace n ON n.oid = c.relnamespace
WHERE n.nspname = 'public'
  AND c.relkind IN ('r', 'p', 'v', 'm')
  AND (
    EXISTS (
      SELECT 1 FROM pg_attribute a
      WHERE a.attrelid = c.oid AND a.attname = %(column)s AND a.attnum > 0 AND NOT a.attisdropped
    )
    OR EXISTS (
      SELECT 1 FROM pg_constraint k
      WHERE k.conrelid = c.oid AND k.contype = 'f' AND k.confrelid = to_regclass(%(municipality)s)
    )
  )
ORDER BY 1
"""

_RLS_STATE = """
SELECT c.relkind::text, c.relrowsecurity, c.relforcerowsecurity,
       (SELECT count(*) FROM pg_policy p WHERE p.polrelid = c.oid),
       EXISTS (SELECT 1 FROM unnest(coalesce(c.reloptions, '{}')) o
               WHERE lower(o) IN ('security_invoker=true', 'security_invoker=on', 'security_invoker=1')),
       EXISTS (SELECT 1 FROM pg_attribute a
               WHERE a.attrelid = c.oid AND a.attname = %s AND a.attnum > 0 AND NOT a.attisdropped),
       (SELECT r.rolsuper OR r.rolbypassrls FROM pg_roles r WHERE r.oid = c.relowner)
FROM pg_class c
WHERE c.oid = to_regclass(%s)
"""


def tenant_tables(conn: psycopg.Connection[Any]) -> list[str]:
    """Every relation in ``public`` that holds (or shows) one municipality's rows."""
    rows = conn.execute(_TENANT_RELATIONS, {"column": TENANT_COLUMN, "municipality": MUNICIPALITY_TABLE}).fetchall()
    return [str(r[0]) for r in rows]


# Tables that point (by foreign key) at a tenant table: their rows belong to one
# municipality even without a tenant column of their own.
_TENANT_CHILDREN = """
SELECT DISTINCT c.oid::regclass::text
FROM pg_constraint k
JOIN pg_class c ON c.oid = k.conrelid
JOIN pg_namespace n ON n.oid = c.relnamespace
WHERE n.nspname = 'public' AND k.contype = 'f' AND c.relkind IN ('r', 'p')
  AND k.confrelid = ANY(%s::regclass[])
  AND NOT EXISTS (
    SELECT 1 FROM pg_attribute a
    WHERE a.attrelid = c.oid AND a.attname = %s AND a.attnum > 0 AND NOT a.attisdropped
  )
ORDER BY 1
"""

_ALL_TABLES = """
SELECT c.oid::regclass::text FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
WHERE n.nspname = 'public' AND c.relkind IN ('r', 'p', 'v', 'm') ORDER BY 1
"""


def tenant_children_without_tenant_column(conn: psycopg.Connection[Any]) -> list[str]:
    """Tables that reference a tenant table but carry no tenant column: RLS cannot key on them."""
    return [str(r[0]) for r in conn.execute(_TENANT_CHILDREN, [tenant_tables(conn), TENANT_COLUMN]).fetchall()]


def all_tables(conn: psycopg.Connection[Any]) -> list[str]:
    return [str(r[0]) for r in conn.execute(_ALL_TABLES).fetchall()]


def rls_problems(conn: psycopg.Connection[Any]) -> dict[str, list[str]]:
    """Tenant relations that row-level security does not fully cover, with what is missing.

    A table needs the tenant column the policies key on, RLS enabled (else no
    policy applies), forced (else the owner bypasses it) and at least one policy.
    A view reads its tables as its owner unless it is security_invoker, which
    matters when that owner bypasses RLS; a materialized view cannot have RLS at all.
    """
    problems: dict[str, list[str]] = {}
    for table in tenant_tables(conn):
        row = conn.execute(_RLS_STATE, [TENANT_COLUMN, table]).fetchone()
        assert row is not None
        kind, enabled, forced, policies, invoker, has_column, owner_bypasses = row
        missing: list[str] = []
        if not has_column:
            missing.append(f"references {MUNICIPALITY_TABLE} but has no {TENANT_COLUMN} (the key the policies check)")
        if kind in ("r", "p"):
            if not enabled:
                missing.append("ROW LEVEL SECURITY not enabled")
            if not forced:
                missing.append("ROW LEVEL SECURITY not forced")
            if policies == 0:
                missing.append("no policy")
        elif kind == "v" and owner_bypasses and not invoker:
            missing.append("view runs as an owner that bypasses RLS (make it security_invoker)")
        elif kind == "m":
            missing.append("materialized view (cannot have row-level security)")
        if missing:
            problems[table] = missing
    return problems


def rows_by_municipality(conn: psycopg.Connection[Any], table: str) -> dict[str | None, int]:
    """How many rows of ``table`` each municipality has, as ``conn`` sees them."""
    query = sql.SQL("SELECT {col}, count(*) FROM {table} GROUP BY 1").format(
        col=sql.Identifier(TENANT_COLUMN), table=sql.Identifier(table)
    )
    return {r[0]: int(r[1]) for r in conn.execute(query).fetchall()}


def total_rows(conn: psycopg.Connection[Any], table: str) -> int:
    row = conn.execute(sql.SQL("SELECT count(*) FROM {}").format(sql.Identifier(table))).fetchone()
    assert row is not None
    return int(row[0])
