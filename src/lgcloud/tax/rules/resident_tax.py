"""個人住民税（市町村民税・道府県民税）and 森林環境税 for one taxpayer and one fiscal year.

Pure: the caller passes the declaration and the law in force on the 賦課期日 (1 January of
the fiscal year) for the municipality; nothing here reads a database, a file or the clock.
Each step keeps its amount and its legal reference in the breakdown, so a clerk can follow
the computation line by line on the 税額決定通知書.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import date
from fractions import Fraction
from typing import Any

from .rounding import (
    floor_yen,
    quarter_of_salary_truncated_below_1000,
    tax_amount_truncated_below_100,
    tax_base_truncated_below_1000,
)

Band = dict[str, Any]


@dataclass(frozen=True)
class Declaration:
    """What the taxpayer earned in the previous calendar year and the deductions claimed (申告・給与支払報告書)."""

    birth_date: date
    salary_income: int = 0  # 給与収入
    public_pension_income: int = 0  # 公的年金等収入
    business_income: int = 0  # 事業所得（収入 − 必要経費）
    other_income: int = 0  # その他の所得
    social_insurance: int = 0  # 社会保険料控除
    small_business_mutual_aid: int = 0  # 小規模企業共済等掛金控除
    life_insurance: int = 0  # 生命保険料控除（住民税の額）
    earthquake_insurance: int = 0  # 地震保険料控除（住民税の額）
    medical: int = 0  # 医療費控除
    spouse: str = ""  # 控除対象配偶者: "" / "general" / "elderly"
    dependents_general: int = 0  # 一般扶養（16歳以上）
    dependents_specified: int = 0  # 特定扶養（19歳以上23歳未満）
    dependents_elderly: int = 0  # 老人扶養
    dependents_elderly_cohabiting: int = 0  # 同居老親等
    dependents_under_16: int = 0  # 年少扶養（控除なし、非課税判定の人数には入る）
    disabled: bool = False  # 本人が障害者
    single_parent: str = ""  # ひとり親: "" / "mother" / "father"
    widow: bool = False  # 寡婦
    public_assistance: bool = False  # 生活保護の生活扶助を受けている（1月1日現在）

    def spouse_or_dependants(self) -> int:
        return (
            (1 if self.spouse else 0)
            + self.dependents_general
            + self.dependents_specified
            + self.dependents_elderly
            + self.dependents_elderly_cohabiting
            + self.dependents_under_16
        )


@dataclass(frozen=True)
class TaxLaw:
    """The parameters in force on the 賦課期日 for one municipality (see tax.parameters.law_for)."""

    fiscal_year: int
    kyuchi_grade: str  # "1" / "2" / "3"
    municipal_rate: Fraction
    prefectural_rate: Fraction
    per_capita_municipal: int
    per_capita_prefectural: int
    forest_environment_tax: int
    basic_deduction: tuple[Band, ...]
    employment_income: tuple[Band, ...]
    pension_under_65: tuple[Band, ...]
    pension_65: tuple[Band, ...]
    personal: dict[str, dict[str, int]]
    adjustment: dict[str, Any]
    income_levy_exemption: dict[str, int]
    per_capita_exemption: dict[str, int]
    personal_exemption_income: int
    references: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class Line:
    code: str
    label: str
    amount: int
    reference: str = ""


@dataclass(frozen=True)
class Assessment:
    fiscal_year: int
    employment_income: int  # 給与所得
    pension_income: int  # 公的年金等に係る雑所得
    total_income: int  # 合計所得金額（＝総所得金額等）
    deductions: int  # 所得控除の合計
    taxable_income: int  # 課税総所得金額（1,000円未満切捨て）
    income_levy_municipal: int  # 所得割（市町村民税）
    income_levy_prefectural: int  # 所得割（道府県民税）
    adjustment_credit_municipal: int  # 調整控除（市）
    adjustment_credit_prefectural: int  # 調整控除（県）
    per_capita_municipal: int  # 均等割（市町村民税）
    per_capita_prefectural: int  # 均等割（道府県民税）
    forest_environment_tax: int  # 森林環境税
    exemption: str  # "" / "all" / "income_levy"
    lines: tuple[Line, ...]

    @property
    def municipal_total(self) -> int:
        return self.income_levy_municipal + self.per_capita_municipal

    @property
    def prefectural_total(self) -> int:
        return self.income_levy_prefectural + self.per_capita_prefectural

    @property
    def total(self) -> int:
        return self.municipal_total + self.prefectural_total + self.forest_environment_tax

    def as_json(self, references: dict[str, str] | None = None) -> dict[str, Any]:
        """The breakdown to store: lines as ``[code, label, amount, reference]``.

        With the law's ``references`` (parameter name → text) a reference is stored as ``@name``
        instead of its text (URLs included): at a million taxpayers the repeated text was most of
        the bytes written. :func:`expand_lines` gives the text back for display.
        """
        # Built by hand: dataclasses.asdict deep-copies and was most of the batch's CPU time.
        short = {text: f"@{name}" for name, text in (references or {}).items() if text}
        data: dict[str, Any] = {name: getattr(self, name) for name in _SCALARS}
        data["lines"] = [[x.code, x.label, x.amount, short.get(x.reference, x.reference)] for x in self.lines]
        data["total"] = self.total
        return data


def expand_lines(stored: list[Any], references: dict[str, str]) -> list[dict[str, Any]]:
    """Stored breakdown lines (see :meth:`Assessment.as_json`) as dicts with the reference text."""
    out = []
    for line in stored:
        if isinstance(line, dict):  # the earlier, verbose form
            out.append(line)
            continue
        code, label, amount, reference = line
        if reference.startswith("@"):
            reference = references.get(reference[1:], reference)
        out.append({"code": code, "label": label, "amount": amount, "reference": reference})
    return out


def apply_bands(amount: int, bands: tuple[Band, ...] | list[Band]) -> int:
    """An income table (所得税法 別表第五 and the 公的年金等控除): the first band with ``amount < below``."""
    for band in bands:
        below = band["below"]
        if below is not None and amount >= below:
            continue
        kind, c = band["kind"], int(band.get("c", 0))
        if kind == "zero":
            return 0
        if kind == "fixed":
            return c
        if kind == "minus":
            return max(0, amount - c)
        m = Fraction(str(band["m"]))
        if kind == "quarter":
            return max(0, floor_yen(quarter_of_salary_truncated_below_1000(amount) * m) + c)
        if kind == "rate":
            return max(0, floor_yen(amount * m) + c)
        raise ValueError(f"unknown band kind {kind!r}")
    raise ValueError("the table has no open-ended last band")


def age_at_year_end(birth_date: date, fiscal_year: int) -> int:
    """Age on 31 December of the income year (前年12月31日), as the deductions count it."""
    end = date(fiscal_year - 1, 12, 31)
    return end.year - birth_date.year - ((end.month, end.day) < (birth_date.month, birth_date.day))


def _basic_deduction(total_income: int, law: TaxLaw) -> int:
    for band in law.basic_deduction:
        if band["up_to"] is None or total_income <= band["up_to"]:
            return int(band["amount"])
    return 0


def _spouse_deduction(kind: str, total_income: int, law: TaxLaw) -> tuple[int, int]:
    """配偶者控除 (amount, 人的控除差). Reduced above 合計所得 9,000,000 (地方税法 第314条の2 第1項 第10号)."""
    if not kind:
        return 0, 0
    full = law.personal["spouse_" + kind]
    if total_income > 10_000_000:
        return 0, 0
    if total_income > 9_500_000:
        return full["amount"] // 3 // 10000 * 10000, full["difference"]
    if total_income > 9_000_000:
        return full["amount"] * 2 // 3 // 10000 * 10000, full["difference"]
    return full["amount"], full["difference"]


def assess(decl: Declaration, law: TaxLaw) -> Assessment:
    """The whole computation for one taxpayer (地方税法 第32条〜第37条, 第292条〜第314条の9)."""
    ref = law.references
    lines: list[Line] = []
    employment = apply_bands(decl.salary_income, law.employment_income) if decl.salary_income else 0
    age = age_at_year_end(decl.birth_date, law.fiscal_year)
    pension_table = law.pension_65 if age >= 65 else law.pension_under_65
    pension = apply_bands(decl.public_pension_income, pension_table) if decl.public_pension_income else 0
    total_income = max(0, employment + pension + decl.business_income + decl.other_income)
    lines += [
        Line("salary_income", "給与収入", decl.salary_income),
        Line("employment_income", "給与所得", employment, ref.get("employment_income", "")),
        Line("public_pension_income", "公的年金等収入", decl.public_pension_income),
        Line("pension_income", "公的年金等に係る雑所得", pension, ref.get("public_pension_income", "")),
        Line("business_income", "事業所得", decl.business_income),
        Line("other_income", "その他の所得", decl.other_income),
        Line("total_income", "合計所得金額", total_income),
    ]

    # 非課税 (地方税法 第295条): 生活扶助, or 障害者・未成年者・寡婦・ひとり親 with small income.
    minor = age < 18 if law.fiscal_year >= 2023 else age < 20
    if decl.public_assistance or (
        (decl.disabled or minor or decl.widow or decl.single_parent) and total_income <= law.personal_exemption_income
    ):
        lines.append(Line("exempt", "非課税（均等割・所得割とも）", 0, ref.get("personal_exemption_income", "")))
        return _zero(law, employment, pension, total_income, "all", lines)

    persons = 1 + decl.spouse_or_dependants()
    dependants = decl.spouse_or_dependants() > 0
    pc = law.per_capita_exemption
    per_capita_limit = pc["per_person"] * persons + pc["plus"] + (pc["with_dependants"] if dependants else 0)
    if total_income <= per_capita_limit:
        lines.append(
            Line(
                "exempt_per_capita_limit", "均等割の非課税限度額", per_capita_limit, ref.get("per_capita_exemption", "")
            )
        )
        lines.append(Line("exempt", "非課税（均等割・所得割とも）", 0, ref.get("per_capita_exemption", "")))
        return _zero(law, employment, pension, total_income, "all", lines)

    # 所得控除 (地方税法 第314条の2).
    p = law.personal
    spouse_amount, spouse_diff = _spouse_deduction(decl.spouse, total_income, law)
    basic = _basic_deduction(total_income, law)
    deduction_items: list[tuple[str, str, int, int]] = [
        ("social_insurance", "社会保険料控除", decl.social_insurance, 0),
        ("small_business_mutual_aid", "小規模企業共済等掛金控除", decl.small_business_mutual_aid, 0),
        ("life_insurance", "生命保険料控除", decl.life_insurance, 0),
        ("earthquake_insurance", "地震保険料控除", decl.earthquake_insurance, 0),
        ("medical", "医療費控除", decl.medical, 0),
        ("spouse", "配偶者控除", spouse_amount, spouse_diff),
        (
            "dependents_general",
            "扶養控除（一般）",
            p["dependent_general"]["amount"] * decl.dependents_general,
            p["dependent_general"]["difference"] * decl.dependents_general,
        ),
        (
            "dependents_specified",
            "扶養控除（特定）",
            p["dependent_specified"]["amount"] * decl.dependents_specified,
            p["dependent_specified"]["difference"] * decl.dependents_specified,
        ),
        (
            "dependents_elderly",
            "扶養控除（老人）",
            p["dependent_elderly"]["amount"] * decl.dependents_elderly,
            p["dependent_elderly"]["difference"] * decl.dependents_elderly,
        ),
        (
            "dependents_elderly_cohabiting",
            "扶養控除（同居老親等）",
            p["dependent_elderly_cohabiting"]["amount"] * decl.dependents_elderly_cohabiting,
            p["dependent_elderly_cohabiting"]["difference"] * decl.dependents_elderly_cohabiting,
        ),
        (
            "disabled",
            "障害者控除",
            p["disabled"]["amount"] if decl.disabled else 0,
            p["disabled"]["difference"] if decl.disabled else 0,
        ),
    ]
    if decl.single_parent:
        sp = p["single_parent_" + decl.single_parent]
        deduction_items.append(("single_parent", "ひとり親控除", sp["amount"], sp["difference"]))
    elif decl.widow:
        deduction_items.append(("widow", "寡婦控除", p["widow"]["amount"], p["widow"]["difference"]))
    deduction_items.append(("basic", "基礎控除", basic, p["basic"]["difference"] if basic else 0))
    deductions = 0
    personal_difference = 0
    for code, label, amount, difference in deduction_items:
        if amount:
            lines.append(Line(f"deduction.{code}", label, amount, ref.get("personal_deductions", "")))
        deductions += amount
        personal_difference += difference
    lines.append(Line("deductions", "所得控除の合計", deductions))
    taxable = tax_base_truncated_below_1000(total_income - deductions)
    lines.append(Line("taxable_income", "課税総所得金額（1,000円未満切捨て）", taxable, "地方税法 第20条の4の2 第1項"))

    # 所得割の非課税 (地方税法 附則 第3条の3).
    ex = law.income_levy_exemption
    income_limit = ex["per_person"] * persons + ex["plus"] + (ex["with_dependants"] if dependants else 0)
    adj = law.adjustment
    if total_income <= income_limit:
        lines.append(
            Line(
                "income_levy_exemption_limit",
                "所得割の非課税限度額",
                income_limit,
                ref.get("income_levy_exemption", ""),
            )
        )
        municipal = prefectural = adj_m = adj_p = 0
        exemption = "income_levy"
    else:
        exemption = ""
        # 調整控除 (地方税法 第314条の6, 第37条): 人的控除額の差に基づく.
        adj_m = adj_p = 0
        if total_income <= adj["total_income_limit"] and taxable > 0:
            if taxable <= adj["threshold"]:
                base = min(personal_difference, taxable)
            else:
                base = max(personal_difference - (taxable - adj["threshold"]), adj["minimum_base"])
            adj_m = floor_yen(base * Fraction(adj["municipal_rate"]))
            adj_p = floor_yen(base * Fraction(adj["prefectural_rate"]))
        gross_m = taxable * law.municipal_rate
        gross_p = taxable * law.prefectural_rate
        municipal = tax_amount_truncated_below_100(gross_m - adj_m)
        prefectural = tax_amount_truncated_below_100(gross_p - adj_p)
        adj_m = min(adj_m, floor_yen(gross_m))
        adj_p = min(adj_p, floor_yen(gross_p))
        lines += [
            Line("personal_difference", "人的控除額の差の合計", personal_difference, ref.get("adjustment_credit", "")),
            Line(
                "gross_income_levy_municipal",
                "算出所得割額（市町村民税 6%）",
                floor_yen(gross_m),
                ref.get("income_levy_rate.municipal", ""),
            ),
            Line(
                "gross_income_levy_prefectural",
                "算出所得割額（道府県民税 4%）",
                floor_yen(gross_p),
                ref.get("income_levy_rate.prefectural", ""),
            ),
            Line("adjustment_credit_municipal", "調整控除（市町村民税）", adj_m, ref.get("adjustment_credit", "")),
            Line("adjustment_credit_prefectural", "調整控除（道府県民税）", adj_p, ref.get("adjustment_credit", "")),
        ]
    lines += [
        Line(
            "income_levy_municipal", "所得割額（市町村民税、100円未満切捨て）", municipal, "地方税法 第20条の4の2 第3項"
        ),
        Line(
            "income_levy_prefectural",
            "所得割額（道府県民税、100円未満切捨て）",
            prefectural,
            "地方税法 第20条の4の2 第3項",
        ),
        Line(
            "per_capita_municipal",
            "均等割額（市町村民税）",
            law.per_capita_municipal,
            ref.get("per_capita_levy.municipal", ""),
        ),
        Line(
            "per_capita_prefectural",
            "均等割額（道府県民税）",
            law.per_capita_prefectural,
            ref.get("per_capita_levy.prefectural", ""),
        ),
        Line("forest_environment_tax", "森林環境税", law.forest_environment_tax, ref.get("forest_environment_tax", "")),
    ]
    result = Assessment(
        law.fiscal_year,
        employment,
        pension,
        total_income,
        deductions,
        taxable,
        municipal,
        prefectural,
        adj_m,
        adj_p,
        law.per_capita_municipal,
        law.per_capita_prefectural,
        law.forest_environment_tax,
        exemption,
        (),
    )
    lines.append(Line("total", "年税額", result.total))
    return _with_lines(result, lines)


def _with_lines(a: Assessment, lines: list[Line]) -> Assessment:
    return replace(a, lines=tuple(lines))


_SCALARS = tuple(f for f in Assessment.__dataclass_fields__ if f != "lines")


def _zero(
    law: TaxLaw, employment: int, pension: int, total_income: int, exemption: str, lines: list[Line]
) -> Assessment:
    lines.append(Line("total", "年税額", 0))
    return Assessment(
        law.fiscal_year, employment, pension, total_income, 0, 0, 0, 0, 0, 0, 0, 0, 0, exemption, tuple(lines)
    )
