"""PostgreSQL row-level security and the app role's privileges.

The app connects as a role that is neither owner nor superuser; migrations run
as the owner. Each tenant table gets RLS through :class:`EnableTenantRLS` in its
app's migrations; after every ``migrate`` the app role is granted what it needs
and nothing more (no UPDATE/DELETE on append-only tables such as the audit log).
"""

from __future__ import annotations

import logging
from typing import Any

from django.conf import settings
from django.db import connections
from django.db.backends.base.schema import BaseDatabaseSchemaEditor
from django.db.migrations.operations.base import Operation
from django.db.migrations.state import ProjectState
from django.db.models.signals import post_migrate
from django.dispatch import receiver

from lgcloud.core.tenancy import AUDIT_SEALER_SETTING, IDENTITY_SETTING, PLATFORM_SETTING, TENANT_SETTING

logger = logging.getLogger(__name__)

_TENANT = f"municipality_id = current_setting('{TENANT_SETTING}', true)"
_PLATFORM = f"current_setting('{PLATFORM_SETTING}', true) = 'on'"
_IDENTITY = f"current_setting('{IDENTITY_SETTING}', true) = 'on'"
_AUDIT_SEALER = f"current_setting('{AUDIT_SEALER_SETTING}', true) = 'on'"

POLICIES: dict[str, str] = {
    # Residents' data and everything else a municipality owns.
    "tenant": _TENANT,
    # Staff identities: also readable while signing in, before the tenant is known;
    # the operator's context reaches operator accounts (no municipality) only.
    "identity": f"({_TENANT}) OR ({_IDENTITY}) OR (municipality_id IS NULL AND {_PLATFORM})",
    # Audit chains: a municipality's own, or the platform's chain (no municipality); the
    # sealer reads and seals every chain of the cluster in one pass.
    "audit": f"({_TENANT}) OR (municipality_id IS NULL AND {_PLATFORM}) OR ({_AUDIT_SEALER})",
    # The app directory: a municipality's own choices, and every municipality's for the platform
    # (the operator decides requests; routing reads a municipality's choices before any tenant block).
    # No personal data: which implementation of which 業務, from when, requested and decided by whom.
    "directory": f"({_TENANT}) OR ({_PLATFORM})",
}

POLICY_NAME = "lgcloud_tenant_isolation"

# Tables the app role may only read and append to (filled by the apps' ready()).
APPEND_ONLY_TABLES: set[str] = set()


class EnableTenantRLS(Operation):
    """Enable and force row-level security on a tenant table (PostgreSQL only)."""

    reversible = True
    reduces_to_sql = True

    def __init__(self, model_name: str, policy: str = "tenant") -> None:
        if policy not in POLICIES:
            raise ValueError(f"unknown RLS policy {policy!r}")
        self.model_name = model_name
        self.policy = policy

    def deconstruct(self) -> tuple[str, list[Any], dict[str, Any]]:
        return (self.__class__.__qualname__, [self.model_name], {"policy": self.policy})

    def state_forwards(self, app_label: str, state: ProjectState) -> None:
        pass

    def _table(self, app_label: str, state: ProjectState) -> str:
        model = state.apps.get_model(app_label, self.model_name)
        return str(model._meta.db_table)

    def database_forwards(
        self, app_label: str, schema_editor: BaseDatabaseSchemaEditor, from_state: ProjectState, to_state: ProjectState
    ) -> None:
        if schema_editor.connection.vendor != "postgresql":
            return
        table = schema_editor.quote_name(self._table(app_label, to_state))
        expression = POLICIES[self.policy]
        schema_editor.execute(f"ALTER TABLE {table} ENABLE ROW LEVEL SECURITY")
        # FORCE: the owner is held to the policy too; only superusers bypass it.
        schema_editor.execute(f"ALTER TABLE {table} FORCE ROW LEVEL SECURITY")
        schema_editor.execute(f"DROP POLICY IF EXISTS {POLICY_NAME} ON {table}")
        schema_editor.execute(f"CREATE POLICY {POLICY_NAME} ON {table} USING ({expression}) WITH CHECK ({expression})")

    def database_backwards(
        self, app_label: str, schema_editor: BaseDatabaseSchemaEditor, from_state: ProjectState, to_state: ProjectState
    ) -> None:
        if schema_editor.connection.vendor != "postgresql":
            return
        table = schema_editor.quote_name(self._table(app_label, from_state))
        schema_editor.execute(f"DROP POLICY IF EXISTS {POLICY_NAME} ON {table}")
        schema_editor.execute(f"ALTER TABLE {table} NO FORCE ROW LEVEL SECURITY")
        schema_editor.execute(f"ALTER TABLE {table} DISABLE ROW LEVEL SECURITY")

    def describe(self) -> str:
        return f"Enable row-level security ({self.policy}) on {self.model_name}"

    @property
    def migration_name_fragment(self) -> str:
        return f"rls_{self.model_name.lower()}"


@receiver(post_migrate)
def grant_app_role(sender: Any, using: str = "default", **kwargs: Any) -> None:
    """Give the app role exactly the privileges it needs, after every migrate."""
    if getattr(sender, "label", None) != "core":
        return
    connection = connections[using]
    if connection.vendor != "postgresql":
        return
    role = settings.APP_DB_ROLE
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1 FROM pg_roles WHERE rolname = %s", [role])
        if cursor.fetchone() is None:
            logger.warning("PostgreSQL role %s does not exist; no privileges granted", role)
            return
        quoted = connection.ops.quote_name(role)
        cursor.execute(f"GRANT USAGE ON SCHEMA public TO {quoted}")
        cursor.execute(f"GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA public TO {quoted}")
        cursor.execute(f"GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA public TO {quoted}")
        cursor.execute(f"REVOKE INSERT, UPDATE, DELETE, TRUNCATE ON django_migrations FROM {quoted}")
        for table in sorted(APPEND_ONLY_TABLES):
            cursor.execute(f"REVOKE UPDATE, DELETE, TRUNCATE ON {connection.ops.quote_name(table)} FROM {quoted}")
