"""Permissions and roles: one list of named ``scope:resource:action`` strings.

Roles map to permissions here and nowhere else. The operator (運用者) runs the
platform and never receives a permission that reads residents' personal data.
"""

from __future__ import annotations

from enum import StrEnum


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

# Every permission, with what it allows (日本語). Names never change once used:
# they are stored in audit records.
PERMISSIONS: dict[str, str] = {
    "staff:dashboard:view": "職員ダッシュボードの表示",
    "staff:municipality:read": "団体一覧の参照",
    "municipal:staff:read": "自団体の職員・ロールの参照",
    "municipal:staff:manage": "自団体の職員・ロールの管理",
    "audit:log:read": "自団体の監査ログの参照",
    "registry:resident:read": "住民記録の参照",
    "registry:resident:write": "住民記録の異動処理",
    "registry:certificate:issue": "住民票の写し等の交付",
    "registry:individual_number:read": "個人番号の表示（法令に定める事務のみ）",
    "registry:protection:manage": "支援措置の設定・延長・終了",
    "registry:certificate:self_service": "本人確認済み住民への証明書の自動交付",
    "tax:assessment:read": "個人住民税の課税情報の参照",
    "tax:assessment:write": "個人住民税の賦課処理",
    "benefits:case:read": "給付（児童手当等）の参照",
    "benefits:case:write": "給付（児童手当等）の処理",
    "registry:transfer:confirm": "他団体からの転入（転出証明書情報）の確認・転入処理",
    "linkage:webhook:manage": "連携（Webhook の購読・配信ログ・再送）の管理",
    "linkage:events:read": "連携イベントの取得",
    "linkage:client:manage": "連携する外部システム（API クライアント）の管理",
    "registry:resident:export": "住民記録の全件出力（標準レイアウト・データ移行）",
    "registry:resident:restore": "住民記録の全件取込み（空の団体へのデータ移行）",
    "portability:export:request": "全件出力の申請",
    "portability:export:approve": "全件出力の承認（申請者とは別の職員）",
    "procedures:submission:review": "オンライン申請の審査・承認",
    "procedures:counter:assist": "窓口でのオンライン申請の代理入力",
    "resident:procedure:file": "住民本人によるオンライン申請（住民のログインにのみ付与）",
    "platform:municipality:read": "団体（テナント）の参照",
    "platform:municipality:manage": "団体（テナント）の管理",
    "platform:health:read": "稼働状況・メトリクスの参照",
}

_BASE = {"staff:dashboard:view", "staff:municipality:read"}

ROLE_PERMISSIONS: dict[Role, frozenset[str]] = {
    Role.COUNTER: frozenset(
        _BASE | {"registry:resident:read", "registry:certificate:issue", "procedures:counter:assist"}
    ),
    Role.REGISTRY_CLERK: frozenset(
        _BASE
        | {
            "registry:resident:read",
            "registry:resident:write",
            "registry:certificate:issue",
            "registry:individual_number:read",
            "registry:protection:manage",
            "registry:transfer:confirm",
            "portability:export:request",
            "procedures:submission:review",
            "procedures:counter:assist",
        }
    ),
    Role.TAX_CLERK: frozenset(_BASE | {"tax:assessment:read", "tax:assessment:write", "registry:resident:read"}),
    Role.WELFARE_CLERK: frozenset(
        _BASE
        | {
            "benefits:case:read",
            "benefits:case:write",
            "registry:resident:read",
            "procedures:submission:review",
            "procedures:counter:assist",
        }
    ),
    Role.AUDITOR: frozenset(_BASE | {"audit:log:read"}),
    Role.MUNICIPAL_ADMIN: frozenset(
        _BASE
        | {
            "municipal:staff:read",
            "municipal:staff:manage",
            "portability:export:request",
            "portability:export:approve",
            "registry:resident:export",
            "linkage:webhook:manage",
            "linkage:events:read",
            "linkage:client:manage",
        }
    ),
    # A machine: no dashboard, no search, no reading of records; it may only issue to a
    # resident who has just proved who they are (card + PIN) at the terminal.
    Role.KIOSK: frozenset({"registry:certificate:self_service"}),
    Role.OPERATOR: frozenset(
        {
            "staff:dashboard:view",
            "staff:municipality:read",
            "platform:municipality:read",
            "platform:municipality:manage",
            "platform:health:read",
        }
    ),
}

# Permission scopes that touch residents' personal data: never granted to the operator.
PERSONAL_DATA_SCOPES: frozenset[str] = frozenset(
    {"registry", "tax", "benefits", "audit", "portability", "procedures", "resident"}
)


def permissions_for(roles: frozenset[Role] | set[Role]) -> frozenset[str]:
    """The union of the permissions of ``roles``."""
    granted: set[str] = set()
    for role in roles:
        granted |= ROLE_PERMISSIONS[role]
    return frozenset(granted)


def parse_role(value: str) -> Role:
    """The role named ``value``; a clear Japanese error otherwise."""
    try:
        return Role(value)
    except ValueError:
        names = ", ".join(f"{r.value}（{r.label}）" for r in Role)
        raise ValueError(f"ロール {value!r} はありません。指定できるロール: {names}") from None
