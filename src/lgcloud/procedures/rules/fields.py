"""Validating what a resident entered against a definition's fields. Pure: the caller passes today.

Values arrive as strings (form posts); the cleaned values are JSON-ready (dates as ISO text,
integers as int, booleans as bool). Every problem is reported at once, in Japanese, per field.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import date
from typing import Any

from lgcloud.core.checkdigits import CheckDigitError, validate_lg_code

from .definitions import FieldSpec

_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")


def clean_value(spec: FieldSpec, raw: str, today: date) -> tuple[Any, str]:
    """(cleaned value, error message or "") for one field."""
    value = raw.strip()
    if spec.type == "boolean":
        return value in {"on", "true", "1", "yes"}, ""
    if not value:
        return ("" if spec.type != "integer" else None), ("入力してください。" if spec.required else "")
    if spec.max_length is not None and len(value) > spec.max_length:
        return value, f"{spec.max_length}文字以内で入力してください。"
    if spec.type == "date":
        try:
            day = date.fromisoformat(value)
        except ValueError:
            return value, "日付は 2025-04-01 の形で入力してください。"
        if spec.not_after_today and day > today:
            return value, "今日より後の日付は入力できません。"
        return day.isoformat(), ""
    if spec.type == "integer":
        if not value.isascii() or not value.lstrip("-").isdigit():
            return value, "半角数字で入力してください。"
        number = int(value)
        if spec.min is not None and number < spec.min:
            return number, f"{spec.min}以上を入力してください。"
        if spec.max is not None and number > spec.max:
            return number, f"{spec.max}以下を入力してください。"
        return number, ""
    if spec.type == "digits":
        if not (value.isascii() and value.isdigit()) or (spec.length is not None and len(value) != spec.length):
            return value, f"半角数字{spec.length}桁で入力してください。"
        if spec.check == "lg_code":
            try:
                validate_lg_code(value)
            except CheckDigitError as exc:
                return value, exc.message
        return value, ""
    if spec.type == "choice":
        if value not in {c.value for c in spec.choices}:
            return value, "選択肢から選んでください。"
        return value, ""
    if spec.type == "email" and not _EMAIL.match(value):
        return value, "メールアドレスの形式が正しくありません。"
    if spec.pattern and not re.fullmatch(spec.pattern, value):
        return value, spec.pattern_message or "入力の形式が正しくありません。"
    return value, ""


def clean_values(
    specs: tuple[FieldSpec, ...], raw: Mapping[str, str], today: date
) -> tuple[dict[str, Any], dict[str, str]]:
    """(cleaned values, errors by field name) for every field of a definition."""
    cleaned: dict[str, Any] = {}
    errors: dict[str, str] = {}
    for spec in specs:
        value, error = clean_value(spec, raw.get(spec.name, ""), today)
        cleaned[spec.name] = value
        if error:
            errors[spec.name] = error
    return cleaned, errors
