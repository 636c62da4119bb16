"""Permissions and roles: one enumerated list of ``scope:resource:action`` names.

Every permission is a member of a :class:`Permission` enum: the platform's own list is
:class:`PlatformPermission` below; each 業務 app declares its list in its manifest
(``lgcloud.contract.Manifest.permissions``) and the grants of its permissions to the staff
roles (``Manifest.grants``). Call sites use the members, never free strings, and a context
refuses to check a name that is not in the catalogue (:func:`check_known`), the platform's
own commands included: a typo is an error, not a silent "no".

The operator (運用者) runs the platform and never receives a permission that reads residents'
personal data: :func:`grant` refuses it whoever asks.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from enum import StrEnum
from typing import Any


class Role(StrEnum):
    COUNTER = "counter"
    REGISTRY_CLERK = "registry_clerk"
    TAX_CLERK = "tax_clerk"
    WELFARE_CLERK = "welfare_clerk"
    AUDITOR = "auditor"
    MUNICIPAL_ADMIN = "municipal_admin"
    KIOSK = "kiosk"
    OPERATOR = "operator"

    @property
    def label(self) -> str:
        return ROLE_LABELS[self]


ROLE_LABELS: dict[Role, str] = {
    Role.COUNTER: "窓口",
    Role.REGISTRY_CLERK: "住民記録担当",
    Role.TAX_CLERK: "税務担当",
    Role.WELFARE_CLERK: "福祉担当",
    Role.AUDITOR: "監査",
    Role.MUNICIPAL_ADMIN: "団体管理者",
    Role.KIOSK: "コンビニ交付端末",
    Role.OPERATOR: "運用者",
}

# Roles held by staff of a municipality; the operator belongs to none.
MUNICIPAL_ROLES: frozenset[Role] = frozenset(r for r in Role if r is not Role.OPERATOR)
PLATFORM_ROLES: frozenset[Role] = frozenset({Role.OPERATOR})
# Roles that must sign in with a second factor (TOTP). Not the kiosk: it is a machine
# account that authenticates with a personal API token, and each resident it serves
# proves who they are with their card and PIN on every request.
MFA_REQUIRED_ROLES: frozenset[Role] = frozenset({Role.MUNICIPAL_ADMIN, Role.OPERATOR})


class UnknownPermission(LookupError):
    """A permission that is not in the catalogue was checked or granted (a programming error)."""


class Permission(StrEnum):
    """Base of every permission list. Members are ``NAME = "scope:resource:action", "日本語の説明"``.

    Names never change once used: they are stored in audit records and tokens.
    """

    label: str

    def __new__(cls, value: str, label: str = "") -> Permission:
        member = str.__new__(cls, value)
        member._value_ = value
        member.label = label
        return member

    @property
    def scope(self) -> str:
        return self.value.split(":", 1)[0]


class PlatformPermission(Permission):
    """What the platform itself allows (identity, audit, linkage, portability, procedures, operations)."""

    # A command run by the platform itself (loaders, onboarding, the demo, workers): passes
    # every check of a permission in the catalogue, and no other.
    SYSTEM = "platform:system:run", "基盤のコマンド・ワーカーとしての実行"
    DASHBOARD_VIEW = "staff:dashboard:view", "職員ダッシュボードの表示"
    MUNICIPALITY_LIST = "staff:municipality:read", "団体一覧の参照"
    STAFF_READ = "municipal:staff:read", "自団体の職員・ロールの参照"
    STAFF_MANAGE = "municipal:staff:manage", "自団体の職員・ロールの管理"
    APPS_MANAGE = "municipal:apps:manage", "自団体が使う業務アプリの選択の申請"
    AUDIT_READ = "audit:log:read", "自団体の監査ログの参照"
    WEBHOOK_MANAGE = "linkage:webhook:manage", "連携（Webhook の購読・配信ログ・再送）の管理"
    EVENTS_READ = "linkage:events:read", "連携イベントの取得"
    CLIENT_MANAGE = "linkage:client:manage", "連携する外部システム（API クライアント）の管理"
    CLIENT_AUTHENTICATED = "linkage:client:authenticated", "認証済みの外部システム（API クライアント）"
    EXPORT_REQUEST = "portability:export:request", "全件出力の申請"
    EXPORT_APPROVE = "portability:export:approve", "全件出力の承認（申請者とは別の職員）"
    REVIEW = "procedures:submission:review", "オンライン申請の審査・承認"
    COUNTER_ASSIST = "procedures:counter:assist", "窓口でのオンライン申請の代理入力"
    RESIDENT_FILE = "resident:procedure:file", "住民本人によるオンライン申請（住民のログインにのみ付与）"
    PLATFORM_MUNICIPALITY_READ = "platform:municipality:read", "団体（テナント）の参照"
    PLATFORM_MUNICIPALITY_MANAGE = "platform:municipality:manage", "団体（テナント）の管理"
    PLATFORM_APPS_APPROVE = "platform:apps:approve", "団体の業務アプリ選択の承認"
    PLATFORM_HEALTH_READ = "platform:health:read", "稼働状況・メトリクスの参照"
    USAGE_READ = "municipal:usage:read", "自団体の利用量・利用料・サービス状況の参照"
    USAGE_MANAGE = "municipal:usage:manage", "自団体の従前経費（平成30年度）の登録"
    OPENDATA_APPROVE = "municipal:opendata:approve", "オープンデータの作成と公表の承認"
    PLATFORM_USAGE_READ = "platform:usage:read", "全団体の利用量・利用料の参照"


# Permission scopes that touch residents' personal data: never granted to the operator.
PLATFORM_SCOPES: frozenset[str] = frozenset({"staff", "municipal", "platform", "linkage"})
PERSONAL_DATA_SCOPES: frozenset[str] = frozenset({"audit", "portability", "procedures", "resident"})

_CATALOGUE: dict[str, Permission] = {}
_GRANTS: dict[Role, set[Permission]] = {role: set() for role in Role}
_RESIDENT_GRANTS: set[Permission] = set()


def register_permissions(permissions: type[Permission]) -> None:
    """Add an app's permission list to the catalogue (called for each manifest when the apps load).

    A name may be declared once; a scope may not pose as the platform's.
    """
    for member in permissions:
        scope, _, rest = member.value.partition(":")
        if not scope or rest.count(":") != 1 or not all(rest.split(":")):
            raise ValueError(f"permission {member.value!r}: the name must be scope:resource:action")
        if not member.label:
            raise ValueError(f"permission {member.value!r}: a Japanese label is required")
        if permissions is not PlatformPermission and scope in PLATFORM_SCOPES:
            raise ValueError(f"permission {member.value!r}: the scope {scope!r} is the platform's")
        existing = _CATALOGUE.get(member.value)
        if existing is not None and existing is not member:
            raise ValueError(f"permission {member.value!r} is already declared by {type(existing).__name__}")
        _CATALOGUE[member.value] = member


def is_personal(permission: Permission) -> bool:
    """Whether the permission touches residents' data: every 業務 app's permission does."""
    return not isinstance(permission, PlatformPermission) or permission.scope in PERSONAL_DATA_SCOPES


def check_known(permission: Any) -> Permission:
    """``permission`` as a catalogued member; :class:`UnknownPermission` for anything else."""
    if not isinstance(permission, Permission) or _CATALOGUE.get(permission.value) is not permission:
        raise UnknownPermission(f"権限 {permission!r} は権限一覧にありません。")
    return permission


def grant(grants: Mapping[Role, Iterable[Permission]], *, residents: Iterable[Permission] = ()) -> None:
    """Give roles (and signed-in residents) permissions of the catalogue."""
    for role, permissions in grants.items():
        for permission in permissions:
            check_known(permission)
            if role is Role.OPERATOR and is_personal(permission):
                raise ValueError(f"the operator may never hold {permission.value} (residents' data)")
            _GRANTS[role].add(permission)
    for permission in residents:
        _RESIDENT_GRANTS.add(check_known(permission))


def catalogue() -> dict[str, Permission]:
    """Every permission known to this installation: the platform's and the installed apps'."""
    return dict(_CATALOGUE)


def granted(role: Role) -> frozenset[Permission]:
    return frozenset(_GRANTS[role])


def permissions_for(roles: frozenset[Role] | set[Role]) -> frozenset[str]:
    """The union of the permissions of ``roles``."""
    out: set[str] = set()
    for role in roles:
        out |= _GRANTS[role]
    return frozenset(out)


def resident_permissions() -> frozenset[str]:
    """What a signed-in resident may do: file procedures, and what the apps let residents read of themselves."""
    return frozenset(_RESIDENT_GRANTS)


def parse_role(value: str) -> Role:
    """The role named ``value``; a clear Japanese error otherwise."""
    try:
        return Role(value)
    except ValueError:
        names = ", ".join(f"{r.value}（{r.label}）" for r in Role)
        raise ValueError(f"ロール {value!r} はありません。指定できるロール: {names}") from None


P = PlatformPermission
register_permissions(PlatformPermission)
_BASE = {P.DASHBOARD_VIEW, P.MUNICIPALITY_LIST}
grant(
    {
        Role.COUNTER: _BASE | {P.COUNTER_ASSIST},
        Role.REGISTRY_CLERK: _BASE | {P.EXPORT_REQUEST, P.REVIEW, P.COUNTER_ASSIST},
        Role.TAX_CLERK: _BASE,
        Role.WELFARE_CLERK: _BASE | {P.REVIEW, P.COUNTER_ASSIST},
        Role.AUDITOR: _BASE | {P.AUDIT_READ},
        Role.MUNICIPAL_ADMIN: _BASE
        | {
            P.STAFF_READ,
            P.STAFF_MANAGE,
            P.APPS_MANAGE,
            P.EXPORT_REQUEST,
            P.EXPORT_APPROVE,
            P.WEBHOOK_MANAGE,
            P.EVENTS_READ,
            P.CLIENT_MANAGE,
            P.USAGE_READ,
            P.USAGE_MANAGE,
            P.OPENDATA_APPROVE,
        },
        Role.OPERATOR: _BASE
        | {
            P.PLATFORM_MUNICIPALITY_READ,
            P.PLATFORM_MUNICIPALITY_MANAGE,
            P.PLATFORM_APPS_APPROVE,
            P.PLATFORM_HEALTH_READ,
            P.PLATFORM_USAGE_READ,
        },
    },
    residents={P.RESIDENT_FILE},
)
