"""Rounding as the law says, one helper per rule (money is integer yen)."""

from __future__ import annotations

from fractions import Fraction


def floor_yen(amount: Fraction | int) -> int:
    """1円未満切捨て: a product with a rate is never rounded up (国税通則法 第118条・第119条 の例による)."""
    return int(amount // 1)


def tax_base_truncated_below_1000(amount: int) -> int:
    """課税標準額の1,000円未満切捨て（地方税法 第20条の4の2 第1項）."""
    return max(0, amount) // 1000 * 1000


def tax_amount_truncated_below_100(amount: Fraction | int) -> int:
    """確定金額の100円未満切捨て（地方税法 第20条の4の2 第3項）."""
    return max(0, floor_yen(amount)) // 100 * 100


def quarter_of_salary_truncated_below_1000(salary: int) -> int:
    """給与等の収入金額 ÷ 4 の1,000円未満切捨て（所得税法 別表第五 の計算: A）."""
    return salary // 4 // 1000 * 1000
