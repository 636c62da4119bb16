"""How lgcloud meets the 公共SaaS requirements of the GCAS guide, requirement by requirement.

One list for the public page (/saas/) and docs/saas-requirements.md; a test
(tests/ops/test_saas.py) checks that the doc states every requirement and that every test
named here exists, so neither can drift from the code.
"""

from __future__ import annotations

from dataclasses import dataclass

GUIDE = (
    "デジタル庁「ガバメントクラウド利用における公共SaaS の要件」（GCAS ガイド、2025年4月1日版）"
    "（../shared/reference/standards.md §11）"
)


@dataclass(frozen=True)
class Requirement:
    id: str
    requirement: str
    how: str
    where: str  # the page or document a municipality can check
    tests: tuple[str, ...]  # pytest node ids that show it


REQUIREMENTS: tuple[Requirement, ...] = (
    Requirement(
        "SAAS-1",
        "テナント（団体）がデータを所有し、管理できること",
        "すべての業務データは団体コードを持ち、アプリケーションの壁（TenantContext）と PostgreSQL の行レベル"
        "セキュリティの二重の壁で団体ごとに分離しています。他団体のデータは「存在しない」と同じ応答になります。"
        "運用者には住民のデータを読む権限を与えません。",
        "docs/architecture.md「The two tenant walls」",
        (
            "tests/tenancy/test_walls.py::test_api_answers_the_same_404_for_other_and_missing",
            "tests/postgres/test_app.py::test_pages_and_api_stay_closed_when_the_app_filter_is_missing",
        ),
    ),
    Requirement(
        "SAAS-2",
        "データのエクスポート・インポートができること（必須）",
        "住民記録の全件を標準レイアウト（UTF-8 CSV と SHA-256 付きマニフェスト、公開の JSON Schema）で出力し、"
        "別の団体・別の事業者の実装へ取り込めます。出力は申請者と別の職員の承認が必要で、往復でバイト単位に一致します。",
        "docs/portability.md、docs/standard-layout.md",
        (
            "tests/portability/test_standard.py::test_round_trip_into_another_municipality_is_byte_identical",
            "tests/portability/test_vendor_switch.py::test_another_vendors_bundle_round_trips_byte_for_byte",
        ),
    ),
    Requirement(
        "SAAS-3",
        "詳細な価格表を公開すること",
        "利用料の算定式（均等割・人口割・利用割）と日付つきのパラメータを誰でも見られる「料金表」ページと"
        " docs/charges.md で公開し、各団体の月次明細は項目ごとに自団体の計量値・全団体の合計・"
        "按分率・金額を示します。全団体の利用料の合計は"
        "基盤の経費に一致します。",
        "/pricing/、docs/charges.md",
        (
            "tests/ops/test_charges.py::test_charges_of_all_municipalities_add_up_to_the_platform_cost",
            "tests/ops/test_charges.py::test_the_price_list_is_public_and_shows_the_parameters_in_force",
        ),
    ),
    Requirement(
        "SAAS-4",
        "マルチテナントで、すべてのテナントが同じソースのバージョンを使うこと",
        "一つの配備がすべての団体を受け持ち、団体ごとの分岐やバージョンはありません。稼働中のバージョンは API の"
        "OpenAPI 文書とこのページに示し、団体の違いは設定（条例のパラメータ、業務アプリの選択）だけです。",
        "/saas/、/api/v1/openapi.json",
        ("tests/ops/test_saas.py::test_every_municipality_is_served_by_the_same_version",),
    ),
    Requirement(
        "SAAS-5",
        "外部 API を提供すること",
        "REST API（/api/v1/、OpenAPI 3 の文書つき、エラーは RFC 9457 problem+json）、連携のイベントフィードと署名付き"
        "Webhook、目的を限った外部システム向け API（OAuth 2.0 クライアント認証）、オープンデータ API を提供します。",
        "docs/api.md、docs/linkage.md、docs/opendata.md",
        (
            "tests/core/test_api_contract.py::test_openapi_document_and_docs_page",
            "tests/ops/test_opendata.py::test_the_api_serves_the_published_tables_to_anyone",
        ),
    ),
)
