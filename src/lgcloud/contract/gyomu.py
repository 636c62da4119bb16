"""The 20 standardized 業務 (標準化対象事務), numbered as Shimada city lists them.

Source: 地方公共団体情報システムの標準化に関する法律（令和3年法律第40号）and the 政令 that fixes
the 標準化対象事務 (2022年政令第1号); the numbering and the three added in 2022 (印鑑登録, 戸籍,
戸籍の附票) as in https://www.city.shimada.shizuoka.jp/gyosei-docs/hyojunka.html
(../shared/reference/standards.md §1.2).

Each 業務 has a slug: the first part of its implementations' URLs (``/<slug>/`` for pages,
``/api/v1/municipalities/{lg_code}/<slug>/…`` is not imposed: an app's API paths are its own).
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Gyomu:
    code: str  # "001" … "020"
    name: str  # 日本語名
    slug: str  # URL part and identifier (English, as in docs/glossary.md)
    english: str


GYOMU: dict[str, Gyomu] = {
    g.code: g
    for g in (
        Gyomu("001", "住民基本台帳", "registry", "resident registry"),
        Gyomu("002", "選挙人名簿管理", "elections", "electoral roll"),
        Gyomu("003", "固定資産税", "property-tax", "fixed asset tax"),
        Gyomu("004", "個人住民税", "tax", "individual resident tax"),
        Gyomu("005", "法人住民税", "corporate-tax", "corporate resident tax"),
        Gyomu("006", "軽自動車税", "light-vehicle-tax", "light vehicle tax"),
        Gyomu("007", "国民健康保険", "nhi", "national health insurance"),
        Gyomu("008", "国民年金", "pension", "national pension"),
        Gyomu("009", "障害者福祉", "disability", "disability welfare"),
        Gyomu("010", "後期高齢者医療", "elderly-medical", "medical care for the elderly aged 75+"),
        Gyomu("011", "介護保険", "ltc", "long-term care insurance"),
        Gyomu("012", "児童手当", "benefits", "child allowance"),
        Gyomu("013", "健康管理", "health", "health management"),
        Gyomu("014", "就学", "schooling", "school enrolment"),
        Gyomu("015", "児童扶養手当", "child-support", "child-rearing allowance"),
        Gyomu("016", "生活保護", "public-assistance", "public assistance"),
        Gyomu("017", "子ども・子育て支援", "childcare", "child and childcare support"),
        Gyomu("018", "印鑑登録", "seal", "seal registration"),
        Gyomu("019", "戸籍", "koseki", "family register"),
        Gyomu("020", "戸籍の附票", "koseki-fuhyo", "family register supplement"),
    )
}


class UnknownGyomu(LookupError):
    pass


def gyomu(code_or_name: str) -> Gyomu:
    """The 業務 by code (``018``), slug (``seal``) or Japanese name (``印鑑登録``)."""
    found = GYOMU.get(code_or_name) or next((g for g in GYOMU.values() if code_or_name in (g.slug, g.name)), None)
    if found is None:
        raise UnknownGyomu(f"業務 {code_or_name!r} はありません（001〜020 の番号、または業務名で指定してください）。")
    return found
