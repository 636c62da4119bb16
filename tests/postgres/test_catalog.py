"""The guard: every tenant table in the database has row-level security, enabled, forced, with a policy.

A new tenant table whose migration forgets ``EnableTenantRLS`` fails here.
"""

from __future__ import annotations

import pytest
from django.apps import apps

from lgcloud.core.postgres import POLICY_NAME

from .catalog import all_tables, rls_problems, tenant_children_without_tenant_column, tenant_tables
from .conftest import RawConnection

KNOWN_TENANT_TABLES = {
    "accounts_staff",
    "accounts_staffrole",
    "accounts_apitoken",
    "audit_auditrecord",
    "audit_auditseal",
    "audit_audittreehead",
}
# Every other table in the schema, with the reason it holds no municipality's rows.
# A new table must either be a tenant table (TenantModel + EnableTenantRLS) or be
# listed here with its reason; anything else fails the classification test below.
PLATFORM_TABLES = {
    "django_migrations": "schema history",
    "django_content_type": "model registry",
    "auth_permission": "Django's permission names (lgcloud's roles live in core.permissions)",
    "auth_group": "unused by lgcloud; Django's contrib.auth creates it",
    "auth_group_permissions": "unused by lgcloud; Django's contrib.auth creates it",
    "django_session": "signed-in sessions, keyed by an unguessable id; holds the staff id only",
    "municipalities_municipality": "the directory of municipalities: public reference data",
    "core_tenantplacement": "the tenant directory (which cluster holds a municipality), read before any tenant block",
    "axes_accessattempt": "sign-in lock-out counters, keyed by login id",
    "axes_accessattemptexpiration": "sign-in lock-out counters, keyed by login id",
    "axes_accessfailurelog": "sign-in lock-out log, keyed by login id",
    "axes_accesslog": "sign-in lock-out log, keyed by login id",
    # A known exception (django-otp's own model): a member of staff's TOTP device,
    # keyed by the staff id. It is read while signing in, before any tenant is known.
    "otp_totp_totpdevice": "TOTP devices of staff (django-otp); reached only through the signed-in staff id",
    # django-oauth-toolkit (連携): OAuth clients and tokens of other systems. Looked up by client id or
    # token hash before any tenant is known; the municipality is on linkage_apiclient (identity policy).
    "oauth2_provider_application": "OAuth 2.0 clients (django-oauth-toolkit); the tenant is on linkage_apiclient",
    "oauth2_provider_accesstoken": "OAuth 2.0 access tokens, looked up by hash; tenant via linkage_apiclient",
    "oauth2_provider_refreshtoken": "unused (client credentials issue no refresh token)",
    "oauth2_provider_grant": "unused (no authorization-code flow)",
    "oauth2_provider_idtoken": "unused (no OpenID Connect through the toolkit)",
    "oauth2_provider_devicegrant": "unused (no device flow)",
    # 行政手続オンライン化: published procedure versions are the same for every municipality (YAML in the repo).
    "procedures_proceduredefinition": "published procedure definitions: platform-wide reference data",
    # 運用監視: requests that worked for no municipality (the operator, anonymous pages): the platform's own use.
    "ops_platformusageday": "usage of the platform itself, booked to no municipality (docs/metering.md)",
}
# Tables that reference a tenant table without a tenant column of their own
# (so RLS cannot key on them), accepted with the reason above.
ACCEPTED_TENANT_CHILDREN = {
    "otp_totp_totpdevice",
    # django-oauth-toolkit's optional user column points at accounts_staff; lgcloud's clients
    # (client credentials) never set it, and their municipality is on linkage_apiclient.
    "oauth2_provider_application",
    "oauth2_provider_accesstoken",
    "oauth2_provider_refreshtoken",
    "oauth2_provider_grant",
    "oauth2_provider_idtoken",
    "oauth2_provider_devicegrant",
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


def test_every_table_is_a_tenant_table_or_a_listed_platform_table(app_db: RawConnection) -> None:
    """A table holding a municipality's data without the tenant column (e.g. an ``lg_code`` text field)
    would escape the RLS guard above; so every table must be classified."""
    tenant = set(tenant_tables(app_db))
    unclassified = set(all_tables(app_db)) - tenant - set(PLATFORM_TABLES)
    assert unclassified == set(), (
        "classify these tables: a tenant table (TenantModel + EnableTenantRLS in a migration)"
        " or a platform table in PLATFORM_TABLES with its reason"
    )
    assert tenant.isdisjoint(PLATFORM_TABLES)


def test_no_table_hangs_off_a_tenant_table_without_the_tenant_column(app_db: RawConnection) -> None:
    assert set(tenant_children_without_tenant_column(app_db)) == ACCEPTED_TENANT_CHILDREN


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
        owner_db.execute(
            "CREATE TABLE lgcloud_probe_child (id bigint PRIMARY KEY, staff_id bigint REFERENCES accounts_staff)"
        )
        owner_db.execute("CREATE TABLE lgcloud_probe_text_key (id bigint PRIMARY KEY, lg_code varchar(6) NOT NULL)")
        children = {t for t in tenant_children_without_tenant_column(owner_db) if t.startswith("lgcloud_probe")}
        unclassified = set(all_tables(owner_db)) - set(tenant_tables(owner_db)) - set(PLATFORM_TABLES)
    # A child of a tenant table without the tenant column, and a table keyed by a text
    # code instead of the tenant column, are both caught.
    assert children == {"lgcloud_probe_child"}
    assert {"lgcloud_probe_child", "lgcloud_probe_text_key"} <= unclassified
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
