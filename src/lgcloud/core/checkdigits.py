"""Check digits of Japanese public identifiers.

Pure functions: no Django, no I/O. Algorithms and test codes are in
``shared/reference/standards.md`` §6.
"""

from __future__ import annotations

import re

_LG_CODE_WEIGHTS = (6, 5, 4, 3, 2)
_INDIVIDUAL_NUMBER_WEIGHTS = (6, 5, 4, 3, 2, 7, 6, 5, 4, 3, 2)
_DIGITS_5 = re.compile(r"[0-9]{5}")
_DIGITS_6 = re.compile(r"[0-9]{6}")
_DIGITS_11 = re.compile(r"[0-9]{11}")
_DIGITS_12 = re.compile(r"[0-9]{12}")


class CheckDigitError(ValueError):
    """The value is malformed or its check digit does not match.

    ``message`` is Japanese and safe to show beside a form field; it never
    repeats the value itself (a 個人番号 must not reach logs).
    """

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


def lg_code_check_digit(code5: str) -> str:
    """検査数字 of a 全国地方公共団体コード (JIS X 0402) from its first five digits.

    S = Σ dᵢ·(6,5,4,3,2); r = S mod 11; check = (11 − r) mod 10.
    """
    if not _DIGITS_5.fullmatch(code5):
        raise CheckDigitError("団体コードの先頭5桁は半角数字で入力してください。")
    total = sum(int(d) * w for d, w in zip(code5, _LG_CODE_WEIGHTS, strict=True))
    return str((11 - total % 11) % 10)


def validate_lg_code(code: str) -> str:
    """Return ``code`` if it is a valid 6-digit 全国地方公共団体コード, else raise."""
    if not _DIGITS_6.fullmatch(code or ""):
        raise CheckDigitError("団体コードは半角数字6桁で入力してください（例: 131016）。")
    expected = lg_code_check_digit(code[:5])
    if code[5] != expected:
        raise CheckDigitError(
            f"団体コード {code} の検査数字（6桁目）が正しくありません。正しくは {code[:5]}{expected} です。"
        )
    return code


def individual_number_check_digit(base11: str) -> str:
    """検査用数字 of a 個人番号 from its first eleven digits (番号法施行令 第8条)."""
    if not _DIGITS_11.fullmatch(base11):
        raise CheckDigitError("個人番号は半角数字で入力してください。")
    total = sum(int(d) * w for d, w in zip(base11, _INDIVIDUAL_NUMBER_WEIGHTS, strict=True))
    remainder = total % 11
    return "0" if remainder <= 1 else str(11 - remainder)


def validate_individual_number(number: str) -> str:
    """Return ``number`` if it is a valid 12-digit 個人番号, else raise (without echoing it)."""
    if not _DIGITS_12.fullmatch(number or ""):
        raise CheckDigitError("個人番号は半角数字12桁で入力してください。")
    if number[11] != individual_number_check_digit(number[:11]):
        raise CheckDigitError("個人番号の検査用数字（12桁目）が正しくありません。")
    return number
