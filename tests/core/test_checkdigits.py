import pytest
from hypothesis import given
from hypothesis import strategies as st

from lgcloud.core.checkdigits import (
    CheckDigitError,
    individual_number_check_digit,
    lg_code_check_digit,
    validate_individual_number,
    validate_lg_code,
)

# Real codes from shared/reference/standards.md §6.
REAL_LG_CODES = ["131016", "011002", "011011", "132241", "130001", "140007", "010006", "012025", "131041", "132012"]


@pytest.mark.parametrize("code", REAL_LG_CODES)
def test_real_lg_codes_validate(code: str) -> None:
    assert validate_lg_code(code) == code


def test_remainder_zero_gives_check_digit_one() -> None:
    # 01101: S = 0*6+1*5+1*4+0*3+1*2 = 11, r = 0 → (11 - 0) mod 10 = 1.
    assert lg_code_check_digit("01101") == "1"


@pytest.mark.parametrize("code", ["131017", "131010", "132013", "011003"])
def test_wrong_check_digit_is_refused_with_the_right_one(code: str) -> None:
    with pytest.raises(CheckDigitError) as exc:
        validate_lg_code(code)
    assert "検査数字" in exc.value.message
    assert code[:5] + lg_code_check_digit(code[:5]) in exc.value.message


@pytest.mark.parametrize("code", ["", "13101", "1310166", "13101a", "１３１０１６", None])
def test_malformed_lg_codes_are_refused(code: str | None) -> None:
    with pytest.raises(CheckDigitError, match="半角数字6桁"):
        validate_lg_code(code)  # type: ignore[arg-type]


@given(st.from_regex(r"[0-9]{5}", fullmatch=True), st.integers(min_value=1, max_value=9))
def test_every_single_digit_change_of_the_check_digit_is_caught(code5: str, delta: int) -> None:
    good = code5 + lg_code_check_digit(code5)
    bad = code5 + str((int(good[5]) + delta) % 10)
    validate_lg_code(good)
    with pytest.raises(CheckDigitError):
        validate_lg_code(bad)


def test_individual_number_reference_value() -> None:
    assert validate_individual_number("621498320257") == "621498320257"
    assert individual_number_check_digit("62149832025") == "7"


def test_individual_number_error_never_echoes_the_number() -> None:
    with pytest.raises(CheckDigitError) as exc:
        validate_individual_number("621498320258")
    assert "621498320258" not in str(exc.value)
    assert "検査用数字" in exc.value.message
