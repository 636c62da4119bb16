"""Permissions are one enumerated catalogue: the platform's list and each installed app's, granted to roles."""

from enum import Enum

import pytest
from django.core.exceptions import PermissionDenied

from lgcloud.benefits.permissions import BenefitsPermission
from lgcloud.contract import Manifest, ManifestError
from lgcloud.core.permissions import (
    PERSONAL_DATA_SCOPES,
    ROLE_LABELS,
    Permission,
    PlatformPermission,
    Role,
    UnknownPermission,
    catalogue,
    granted,
    is_personal,
    parse_role,
    permissions_for,
    register_permissions,
)
from lgcloud.core.tenancy import TenantContext
from lgcloud.registry.permissions import RegistryPermission
from lgcloud.tax.permissions import TaxPermission


def test_every_role_has_a_japanese_label_and_known_permissions() -> None:
    known = set(catalogue().values())
    for role in Role:
        assert ROLE_LABELS[role]
        assert granted(role) <= known, role


def test_the_catalogue_holds_the_platform_and_every_installed_app() -> None:
    names = set(catalogue())
    assert {p.value for p in PlatformPermission} <= names
    for app_list in (RegistryPermission, TaxPermission, BenefitsPermission):
        assert {p.value for p in app_list} <= names
    assert all(p.label for p in catalogue().values())


def test_permission_names_are_scope_resource_action() -> None:
    for name in catalogue():
        scope, resource, action = name.split(":")
        assert scope and resource and action, name


def test_operator_can_never_read_personal_data() -> None:
    held = granted(Role.OPERATOR)
    assert held
    assert not any(is_personal(p) for p in held)
    assert not {p.scope for p in held} & PERSONAL_DATA_SCOPES


def test_auditor_reads_the_audit_log_only() -> None:
    held = granted(Role.AUDITOR)
    assert PlatformPermission.AUDIT_READ in held
    assert not {p for p in held if p.scope in {"registry", "tax", "benefits", "municipal", "platform"}}


def test_only_the_municipal_admin_manages_staff_and_requests_apps() -> None:
    assert {r for r in Role if PlatformPermission.STAFF_MANAGE in granted(r)} == {Role.MUNICIPAL_ADMIN}
    assert {r for r in Role if PlatformPermission.APPS_MANAGE in granted(r)} == {Role.MUNICIPAL_ADMIN}
    assert {r for r in Role if PlatformPermission.PLATFORM_APPS_APPROVE in granted(r)} == {Role.OPERATOR}


def test_apps_grant_their_own_permissions_to_the_roles() -> None:
    assert RegistryPermission.RESIDENT_WRITE in granted(Role.REGISTRY_CLERK)
    assert TaxPermission.ASSESSMENT_WRITE in granted(Role.TAX_CLERK)
    assert TaxPermission.ASSESSMENT_WRITE not in granted(Role.WELFARE_CLERK)
    assert granted(Role.KIOSK) == frozenset({RegistryPermission.CERTIFICATE_SELF_SERVICE})


def test_permissions_for_is_the_union() -> None:
    both = permissions_for({Role.COUNTER, Role.AUDITOR})
    assert both == granted(Role.COUNTER) | granted(Role.AUDITOR)


def test_a_name_outside_the_catalogue_never_passes_not_even_for_the_system() -> None:
    system = TenantContext.system("131016", purpose="test")
    clerk = TenantContext("131016", 1, "職員", frozenset({Role.REGISTRY_CLERK}), "test")
    assert system.has(RegistryPermission.RESIDENT_WRITE)
    assert clerk.has(RegistryPermission.RESIDENT_WRITE)
    assert not clerk.has(TaxPermission.ASSESSMENT_READ)
    for ctx in (system, clerk):
        # A free string, even one that spells a real permission, is refused: call sites use the members.
        with pytest.raises(UnknownPermission):
            ctx.has("registry:resident:write")  # type: ignore[arg-type]
        with pytest.raises(UnknownPermission):
            ctx.require("system")  # type: ignore[arg-type]

    class Stray(Permission):
        NOT_INSTALLED = "stray:thing:do", "インストールされていないアプリの権限"

    with pytest.raises(UnknownPermission):
        system.has(Stray.NOT_INSTALLED)


def test_require_names_the_permission_in_japanese() -> None:
    counter = TenantContext("131016", 1, "職員", frozenset({Role.COUNTER}), "test")
    with pytest.raises(PermissionDenied, match="住民記録の異動処理"):
        counter.require(RegistryPermission.RESIDENT_WRITE)


def test_an_app_cannot_pose_as_the_platform_or_declare_a_name_twice() -> None:
    class Posing(Permission):
        STAFF = "municipal:staff:manage2", "職員の管理（なりすまし）"

    with pytest.raises(ValueError, match="platform"):
        register_permissions(Posing)

    class Twice(Permission):
        READ = "registry:resident:read", "住民記録の参照（二重）"

    with pytest.raises(ValueError, match="already declared"):
        register_permissions(Twice)

    class Unlabelled(Permission):
        READ = "unlabelled:thing:read"

    with pytest.raises(ValueError, match="label"):
        register_permissions(Unlabelled)


def test_a_manifest_may_not_grant_the_operator_or_others_permissions() -> None:
    class Own(Permission):
        READ = "own:thing:read", "自分の記録の参照"

    base = {"gyomu": "013", "name": "例", "vendor": "例", "version": "1", "django_app": "own", "permissions": Own}
    with pytest.raises(ManifestError, match="operator"):
        Manifest(id="own-app", grants={Role.OPERATOR: frozenset({Own.READ})}, **base).validate()  # type: ignore[arg-type]
    with pytest.raises(ManifestError, match="not in this app's permission list"):
        Manifest(
            id="own-app",
            grants={Role.COUNTER: frozenset({RegistryPermission.RESIDENT_WRITE})},
            **base,  # type: ignore[arg-type]
        ).validate()
    Manifest(id="own-app", grants={Role.COUNTER: frozenset({Own.READ})}, **base).validate()  # type: ignore[arg-type]


def test_permissions_are_str_enums_with_labels() -> None:
    assert isinstance(RegistryPermission.RESIDENT_READ, Enum)
    assert RegistryPermission.RESIDENT_READ == "registry:resident:read"
    assert RegistryPermission.RESIDENT_READ.label == "住民記録の参照"
    assert RegistryPermission.RESIDENT_READ.scope == "registry"


def test_parse_role_lists_the_choices_in_japanese() -> None:
    assert parse_role("auditor") is Role.AUDITOR
    with pytest.raises(ValueError, match=r"ロール 'clerk' はありません.*registry_clerk（住民記録担当）"):
        parse_role("clerk")
