"""Tenant context: the first wall between municipalities.

Every query and action takes a :class:`TenantContext` and opens it with
:func:`bound`. On PostgreSQL that also sets the per-transaction setting
``lgcloud.lg_code`` that the row-level security policies check (the second
wall), so a query that forgets its filter still sees no other municipality.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field, replace

from django.core.exceptions import PermissionDenied
from django.db import connection, connections, transaction
from django.db.backends.base.base import BaseDatabaseWrapper

from lgcloud.core import placement, usage
from lgcloud.core.permissions import Permission, PlatformPermission, Role, check_known, permissions_for

TENANT_SETTING = "lgcloud.lg_code"
PLATFORM_SETTING = "lgcloud.platform"
IDENTITY_SETTING = "lgcloud.identity"
AUDIT_SEALER_SETTING = "lgcloud.audit_sealer"


@dataclass(frozen=True)
class TenantContext:
    """Who acts, for which municipality, why, and with which permissions.

    ``lg_code`` is None only for the platform operator, who acts on the
    platform itself (municipalities, health) and never inside a tenant.
    """

    lg_code: str | None
    actor_id: int | None
    actor_name: str
    roles: frozenset[Role]
    purpose: str
    request_id: str = field(default_factory=lambda: uuid.uuid4().hex)
    permissions: frozenset[str] = frozenset()
    # OAuth 2.0 scopes of a system client (linkage purposes such as ``tax.resident_tax``): what it
    # may read through the purpose-bound API. Staff and residents have none.
    scopes: frozenset[str] = frozenset()

    def __post_init__(self) -> None:
        if not self.permissions:
            object.__setattr__(self, "permissions", permissions_for(self.roles))

    @property
    def tenant_code(self) -> str:
        """The municipality, for work that only exists inside one (never the operator's context)."""
        if self.lg_code is None:
            raise PermissionDenied("この操作は団体の職員として行ってください。")
        return self.lg_code

    @property
    def is_platform(self) -> bool:
        return self.lg_code is None

    @property
    def role_names(self) -> str:
        return ",".join(sorted(r.value for r in self.roles))

    @property
    def is_system(self) -> bool:
        """A command or worker run by the platform itself (loaders, onboarding, the demo, consumers)."""
        return PlatformPermission.SYSTEM in self.permissions

    def has(self, permission: Permission) -> bool:
        """Whether the context holds ``permission``; a name outside the catalogue raises, even for the system."""
        check_known(permission)
        return permission in self.permissions or self.is_system

    def require(self, permission: Permission) -> None:
        """Raise PermissionDenied unless the context holds ``permission``."""
        if not self.has(permission):
            raise PermissionDenied(f"この操作には権限「{permission.label}」（{permission.value}）が必要です。")

    def with_purpose(self, purpose: str) -> TenantContext:
        return replace(self, purpose=purpose)

    @classmethod
    def system(cls, lg_code: str | None, purpose: str, actor_name: str = "system") -> TenantContext:
        """A context for commands run by the platform itself (loaders, onboarding scripts)."""
        return cls(
            lg_code=lg_code,
            actor_id=None,
            actor_name=actor_name,
            roles=frozenset(),
            purpose=purpose,
            permissions=frozenset({PlatformPermission.SYSTEM}),
        )


@dataclass(frozen=True)
class _DbSettings:
    """The per-transaction settings the row-level security policies read."""

    lg_code: str = ""
    platform: bool = False  # the operator's own rows: the platform audit chain, operator accounts
    identity: bool = False  # sign-in look-ups across municipalities (accounts tables only)
    audit_sealer: bool = False  # the audit sealer, across every chain (audit tables only)


def _set_db(settings: _DbSettings, conn: BaseDatabaseWrapper = connection) -> None:
    if conn.vendor != "postgresql":
        return
    with conn.cursor() as cursor:
        # set_config(..., true) is SET LOCAL: it ends with the transaction, so a
        # pooled connection never carries one request's tenant into the next.
        cursor.execute(
            "SELECT set_config(%s, %s, true), set_config(%s, %s, true), set_config(%s, %s, true),"
            " set_config(%s, %s, true)",
            [
                TENANT_SETTING,
                settings.lg_code,
                PLATFORM_SETTING,
                "on" if settings.platform else "",
                IDENTITY_SETTING,
                "on" if settings.identity else "",
                AUDIT_SEALER_SETTING,
                "on" if settings.audit_sealer else "",
            ],
        )


def _current_db_settings(conn: BaseDatabaseWrapper = connection) -> _DbSettings:
    with conn.cursor() as cursor:
        cursor.execute(
            "SELECT coalesce(current_setting(%s, true), ''), coalesce(current_setting(%s, true), ''),"
            " coalesce(current_setting(%s, true), ''), coalesce(current_setting(%s, true), '')",
            [TENANT_SETTING, PLATFORM_SETTING, IDENTITY_SETTING, AUDIT_SEALER_SETTING],
        )
        lg_code, platform, identity, sealer = cursor.fetchone()
    return _DbSettings(lg_code, platform == "on", identity == "on", sealer == "on")


@contextmanager
def _db_scope(settings: _DbSettings) -> Iterator[None]:
    """A transaction, or a savepoint when nested, whose queries carry these settings, and only its queries.

    At the outermost level COMMIT or ROLLBACK ends the SET LOCAL. Nested in an
    enclosing transaction (an action calling a query, a test case), releasing the
    savepoint would keep it for the rest of that transaction, so the enclosing
    values are put back on the way out. On an exception nothing is put back: the
    rollback to the savepoint undoes the SET LOCAL by itself, and a query on a
    failed transaction would only hide the original error.
    """
    # The municipality's cluster (core.placement): ``default`` unless several are configured.
    # On another cluster, the block also holds the default database (staff accounts, the
    # platform's tables) with the same settings: one transaction on each.
    alias = placement.alias_for(settings.lg_code or None)
    aliases = [alias] if alias == placement.DEFAULT else [placement.DEFAULT, alias]
    with ExitStack() as stack:
        stack.enter_context(placement.active(alias))
        previous: dict[str, _DbSettings | None] = {}
        for name in aliases:
            conn = connections[name]
            nested = conn.vendor == "postgresql" and (conn.in_atomic_block or not conn.get_autocommit())
            stack.enter_context(transaction.atomic(using=name))
            previous[name] = _current_db_settings(conn) if nested else None
            _set_db(settings, conn)
        yield
        for name, before in previous.items():
            if before is not None:
                _set_db(before, connections[name])


@contextmanager
def bound(ctx: TenantContext) -> Iterator[TenantContext]:
    """Open a transaction bound to ``ctx``'s municipality.

    Results must be read inside the block: on PostgreSQL a lazy queryset
    evaluated after it would run without the tenant setting and see nothing.
    The operator's context (no municipality) sees no municipality's rows.
    """
    usage.note(ctx.lg_code)  # metering: the request works for this municipality (core.usage)
    with _db_scope(_DbSettings(lg_code=ctx.lg_code or "", platform=ctx.is_platform)):
        yield ctx


@contextmanager
def platform_scope() -> Iterator[None]:
    """Identity look-ups made before the tenant is known (sign-in, API tokens).

    Only the accounts tables and the platform audit chain honour this scope;
    residents' data never does. The previous settings are restored on exit
    (see :func:`_db_scope`).
    """
    with _db_scope(_DbSettings(platform=True, identity=True)):
        yield


@contextmanager
def audit_sealer_scope() -> Iterator[None]:
    """The audit sealer's transaction: every chain's audit rows, and nothing else.

    Only ``lgcloud.audit.sealer`` opens it: it links the records of all municipalities
    on a cluster into their chains in one pass, instead of one transaction per
    municipality every second. The audit tables' policy honours it; no other table does.
    """
    with _db_scope(_DbSettings(audit_sealer=True)):
        yield
