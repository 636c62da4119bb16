"""The staff navigation and dashboard menu: the platform's pages and the menus of the apps the
municipality uses (their manifests), each shown to holders of its permission."""

from __future__ import annotations

from dataclasses import dataclass

from django.urls import reverse

from lgcloud.contract import MenuItem
from lgcloud.core.permissions import PlatformPermission as P
from lgcloud.core.tenancy import TenantContext
from lgcloud.municipalities.queries import enabled_manifests


@dataclass(frozen=True)
class Link:
    label: str
    url: str
    url_name: str
    description: str


# The platform's pages, before and after the apps' menus.
_WORK = (
    MenuItem("オンライン申請の審査", "procedures:review_queue", P.REVIEW, "住民のオンライン申請の審査・承認・補正依頼"),
    MenuItem("窓口代理入力", "procedures:counter_start", P.COUNTER_ASSIST, "窓口で住民と一緒にオンライン申請を入力"),
    MenuItem("全件出力", "portability:export_list", P.EXPORT_REQUEST, "標準レイアウトでの全件出力の申請と承認"),
    MenuItem("全件出力", "portability:export_list", P.EXPORT_APPROVE, "標準レイアウトでの全件出力の申請と承認"),
    MenuItem("連携（配信ログ）", "linkage:deliveries", P.WEBHOOK_MANAGE, "他システムへのイベント配信の記録と再送"),
)
_ADMIN = (
    MenuItem("業務アプリ", "municipalities:apps", P.APPS_MANAGE, "業務ごとに使う実装（業務アプリ）の確認と選択の申請"),
    MenuItem("職員・ロール管理", "accounts:staff_list", P.STAFF_READ, "自団体の職員の登録、ロールの付与、無効化"),
    MenuItem("監査ログ", "audit:log", P.AUDIT_READ, "自団体のアクセス・変更の記録を検索"),
    MenuItem(
        "団体管理", "municipalities:operator_list", P.PLATFORM_MUNICIPALITY_READ, "団体（テナント）の登録・利用開始"
    ),
    MenuItem(
        "業務アプリの承認", "municipalities:operator_apps", P.PLATFORM_APPS_APPROVE, "実装の一覧と団体の選択申請の承認"
    ),
    MenuItem("利用量・利用料", "ops:usage", P.USAGE_READ, "月次の利用料の明細（CSV・PDF）と平成30年度との比較"),
    MenuItem("サービス状況", "ops:service", P.USAGE_READ, "自団体の業務ごとの応答時間・エラー率と SLO"),
    MenuItem("オープンデータ", "ops:opendata_manage", P.OPENDATA_APPROVE, "人口・世帯・異動の統計の作成と公表の承認"),
    MenuItem("稼働状況", "ops:health", P.PLATFORM_HEALTH_READ, "基盤の稼働状況"),
    MenuItem("利用料（全団体）", "ops:operator_usage", P.PLATFORM_USAGE_READ, "全団体の月次利用料と基盤の経費"),
    MenuItem("サービス状況（全団体）", "ops:operator_service", P.PLATFORM_HEALTH_READ, "団体・業務ごとの SLO と警告"),
    MenuItem("API トークン", "accounts:tokens", P.DASHBOARD_VIEW, "RPA・スクリプト用の個人用トークン"),
)
_JOBS = MenuItem("バッチ処理", "ops:jobs", P.DASHBOARD_VIEW, "賦課計算・対象者抽出・振込データ作成などの処理の記録")


def _visible(ctx: TenantContext, items: tuple[MenuItem, ...] | list[MenuItem]) -> list[Link]:
    seen: set[str] = set()
    out = []
    for item in items:
        if item.url_name in seen or not ctx.has(item.permission):
            continue
        seen.add(item.url_name)
        out.append(Link(item.label, reverse(item.url_name), item.url_name, item.description))
    return out


def menu(ctx: TenantContext) -> list[Link]:
    """What ``ctx`` may open, in the order of the navigation: its 業務 first, then the platform's pages."""
    apps = enabled_manifests(ctx.lg_code) if ctx.lg_code else []
    app_items = [item for m in apps for item in m.menu]
    jobs: list[MenuItem] = []
    if any(m.job_kinds and any(ctx.has(item.permission) for item in m.menu) for m in apps):
        jobs.append(_JOBS)
    return _visible(ctx, [*app_items, *_WORK, *jobs, *_ADMIN])
