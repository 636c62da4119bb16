"""The guard: every tenant table in the database has row-level security, enabled, forced, with a policy.

A new tenant table whose migration forgets ``EnableTenantRLS`` fails here.
"""

from __future__ import annotations

import pytest
from django.apps import apps

from lgcloud.core.postgres import POLICY_NAME

from .catalog import rls_problems, tenant_tables
from .conftest import RawConnection

KNOWN_TENANT_TABLES = {
    "accounts_staff",
    "accounts_staffrole",
    "accounts_apitoken",
    "audit_auditrecord",
    "audit_auditchainhead",
}
FULLY_MISSING = ["ROW LEVEL SECURITY not enabled", "ROW LEVEL SECURITY not forced", "no policy"]


def test_every_tenant_table_has_forced_row_level_security_and_a_policy(app_db: RawConnection) -> None:
    tables = set(tenant_tables(app_db))
    assert tables >= KNOWN_TENANT_TABLES  # the catalog query finds what we know is there
    assert "municipalities_municipality" not in tables  # platform reference data, readable by all
    assert rls_problems(app_db) == {}


def test_every_model_with_a_municipality_is_a_tenant_table_in_the_catalog(app_db: RawConnection) -> None:
    modelled = {
        model._meta.db_table
        for model in apps.get_models()
        if any(f.concrete and f.name == "municipality" for f in model._meta.get_fields())
    }
    assert modelled >= KNOWN_TENANT_TABLES
    assert modelled <= set(tenant_tables(app_db))


def _probes(problems: dict[str, list[str]]) -> dict[str, list[str]]:
    # Only what this test created: a real gap elsewhere fails the guard test above, not these.
    return {table: missing for table, missing in problems.items() if table.startswith("lgcloud_probe")}


def test_the_guard_reports_new_tenant_tables_without_row_level_security(
    owner_db: RawConnection, superuser_db: RawConnection
) -> None:
    with owner_db.transaction(force_rollback=True):
        owner_db.execute("CREATE TABLE lgcloud_probe (id bigint PRIMARY KEY, municipality_id varchar(6) NOT NULL)")
        owner_db.execute(
            "CREATE TABLE lgcloud_probe_fk (id bigint PRIMARY KEY,"
            " lg varchar(6) NOT NULL REFERENCES municipalities_municipality (lg_code))"
        )
        # Owned by the owner role, a view is held to the tables' forced RLS: not a problem.
        owner_db.execute("CREATE VIEW lgcloud_probe_owner_view AS SELECT id, municipality_id FROM accounts_staff")
        owner_db.execute(
            "CREATE MATERIALIZED VIEW lgcloud_probe_matview AS SELECT id, municipality_id FROM accounts_staff"
        )
        problems = _probes(rls_problems(owner_db))
    assert problems == {
        "lgcloud_probe": FULLY_MISSING,
        "lgcloud_probe_fk": [
            "references municipalities_municipality but has no municipality_id (the key the policies check)",
            *FULLY_MISSING,
        ],
        "lgcloud_probe_matview": ["materialized view (cannot have row-level security)"],
    }
    # A superuser's view reads past RLS unless it is security_invoker.
    with superuser_db.transaction(force_rollback=True):
        superuser_db.execute("CREATE VIEW lgcloud_probe_view AS SELECT id, municipality_id FROM accounts_staff")
        superuser_db.execute(
            "CREATE VIEW lgcloud_probe_invoker_view WITH (security_invoker = true)"
            " AS SELECT id, municipality_id FROM accounts_staff"
        )
        assert _probes(rls_problems(superuser_db)) == {
            "lgcloud_probe_view": ["view runs as an owner that bypasses RLS (make it security_invoker)"]
        }


@pytest.mark.parametrize(
    ("weakening", "reported"),
    [
        ("ALTER TABLE accounts_staff DISABLE ROW LEVEL SECURITY", ["ROW LEVEL SECURITY not enabled"]),
        ("ALTER TABLE accounts_staff NO FORCE ROW LEVEL SECURITY", ["ROW LEVEL SECURITY not forced"]),
        (f"DROP POLICY {POLICY_NAME} ON accounts_staff", ["no policy"]),
    ],
)
def test_the_guard_reports_a_weakened_tenant_table(
    owner_db: RawConnection, weakening: str, reported: list[str]
) -> None:
    with owner_db.transaction(force_rollback=True):
        owner_db.execute(weakening)
        assert rls_problems(owner_db).get("accounts_staff") == reported
