import pytest

from lgcloud.core.permissions import (
    PERMISSIONS,
    PERSONAL_DATA_SCOPES,
    ROLE_LABELS,
    ROLE_PERMISSIONS,
    Role,
    parse_role,
    permissions_for,
)


def test_every_role_has_a_japanese_label_and_known_permissions() -> None:
    for role in Role:
        assert ROLE_LABELS[role]
        assert ROLE_PERMISSIONS[role] <= set(PERMISSIONS), role


def test_required_role_identifiers_exist() -> None:
    assert {r.value for r in Role} >= {
        "counter",
        "registry_clerk",
        "tax_clerk",
        "welfare_clerk",
        "auditor",
        "municipal_admin",
        "operator",
    }


def test_permission_names_are_scope_resource_action() -> None:
    for name in PERMISSIONS:
        scope, resource, action = name.split(":")
        assert scope and resource and action, name


def test_operator_can_never_read_personal_data() -> None:
    scopes = {p.split(":")[0] for p in ROLE_PERMISSIONS[Role.OPERATOR]}
    assert not scopes & PERSONAL_DATA_SCOPES


def test_auditor_reads_the_audit_log_only() -> None:
    granted = ROLE_PERMISSIONS[Role.AUDITOR]
    assert "audit:log:read" in granted
    assert not {p for p in granted if p.split(":")[0] in {"registry", "tax", "benefits", "municipal", "platform"}}


def test_only_the_municipal_admin_manages_staff() -> None:
    holders = {r for r in Role if "municipal:staff:manage" in ROLE_PERMISSIONS[r]}
    assert holders == {Role.MUNICIPAL_ADMIN}


def test_permissions_for_is_the_union() -> None:
    both = permissions_for({Role.COUNTER, Role.AUDITOR})
    assert both == ROLE_PERMISSIONS[Role.COUNTER] | ROLE_PERMISSIONS[Role.AUDITOR]


def test_parse_role_lists_the_choices_in_japanese() -> None:
    assert parse_role("auditor") is Role.AUDITOR
    with pytest.raises(ValueError, match=r"ロール 'clerk' はありません.*registry_clerk（住民記録担当）"):
        parse_role("clerk")
