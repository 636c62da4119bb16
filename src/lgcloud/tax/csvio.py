"""給与支払報告書-like CSV of income declarations: columns, parsing and validation (no database)."""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from typing import Any

# Column header (Japanese, as a 給与支払報告書 export would name them) → field.
COLUMNS: dict[str, str] = {
    "宛名番号": "atena_number",
    "給与収入": "salary_income",
    "公的年金等収入": "public_pension_income",
    "事業所得": "business_income",
    "その他の所得": "other_income",
    "社会保険料控除": "social_insurance",
    "小規模企業共済等掛金控除": "small_business_mutual_aid",
    "生命保険料控除": "life_insurance",
    "地震保険料控除": "earthquake_insurance",
    "医療費控除": "medical",
    "控除対象配偶者": "spouse",
    "一般扶養": "dependents_general",
    "特定扶養": "dependents_specified",
    "老人扶養": "dependents_elderly",
    "同居老親等": "dependents_elderly_cohabiting",
    "年少扶養": "dependents_under_16",
    "障害者": "disabled",
    "ひとり親": "single_parent",
    "寡婦": "widow",
    "生活扶助": "public_assistance",
    "特別徴収義務者番号": "employer_number",
    "特別徴収義務者": "employer_name",
}
REQUIRED = ("宛名番号",)
MONEY = {
    "salary_income",
    "public_pension_income",
    "other_income",
    "social_insurance",
    "small_business_mutual_aid",
    "life_insurance",
    "earthquake_insurance",
    "medical",
}
SIGNED_MONEY = {"business_income"}  # a business can make a loss
COUNTS = {
    "dependents_general",
    "dependents_specified",
    "dependents_elderly",
    "dependents_elderly_cohabiting",
    "dependents_under_16",
}
FLAGS = {"disabled", "widow", "public_assistance"}
CHOICES = {"spouse": {"", "general", "elderly"}, "single_parent": {"", "mother", "father"}}
MAX_YEN = 10**12


@dataclass(frozen=True)
class RowError:
    line: int
    column: str
    message: str


def parse(text: str) -> tuple[list[dict[str, Any]], list[RowError]]:
    """Rows as field dicts, and every error (line, column, Japanese message). Errors hold no values."""
    reader = csv.DictReader(io.StringIO(text.lstrip("\ufeff")))
    header = reader.fieldnames or []
    errors: list[RowError] = []
    unknown = [h for h in header if h not in COLUMNS]
    for h in unknown:
        errors.append(RowError(1, h, "不明な列です。"))
    for h in REQUIRED:
        if h not in header:
            errors.append(RowError(1, h, "必須の列がありません。"))
    if errors:
        return [], errors
    rows: list[dict[str, Any]] = []
    seen: set[str] = set()
    for line, raw in enumerate(reader, start=2):
        row: dict[str, Any] = {}
        for column, value in raw.items():
            name = COLUMNS[column]
            value = (value or "").strip()
            if name == "atena_number":
                if not (len(value) == 10 and value.isdigit()):
                    errors.append(RowError(line, column, "宛名番号は10桁の数字です。"))
                elif value in seen:
                    errors.append(RowError(line, column, "同じ宛名番号の行が重複しています。"))
                seen.add(value)
                row[name] = value
            elif name in MONEY or name in SIGNED_MONEY or name in COUNTS:
                text_value = value.replace(",", "") or "0"
                try:
                    number = int(text_value)
                except ValueError:
                    errors.append(RowError(line, column, "整数（円）で入力してください。"))
                    continue
                if (name not in SIGNED_MONEY and number < 0) or abs(number) >= MAX_YEN:
                    errors.append(RowError(line, column, "値が範囲外です。"))
                    continue
                if name in COUNTS and number > 20:
                    errors.append(RowError(line, column, "人数が範囲外です。"))
                    continue
                row[name] = number
            elif name in FLAGS:
                if value not in ("", "0", "1"):
                    errors.append(RowError(line, column, "0 または 1 で入力してください。"))
                    continue
                row[name] = value == "1"
            elif name in CHOICES:
                if value not in CHOICES[name]:
                    allowed = "・".join(c or "（空欄）" for c in sorted(CHOICES[name]))
                    errors.append(RowError(line, column, f"{allowed} のいずれかです。"))
                    continue
                row[name] = value
            else:
                row[name] = value[:100]
        rows.append(row)
    return rows, errors


def template() -> str:
    """An empty CSV with the header row (for the staff page's download)."""
    return ",".join(COLUMNS) + "\r\n"
