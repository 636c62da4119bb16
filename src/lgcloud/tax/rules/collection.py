"""How the assessed amount is collected: 特別徴収 (12 months) or 普通徴収 (4 instalments)."""

from __future__ import annotations

SPECIAL_MONTHS = (6, 7, 8, 9, 10, 11, 12, 1, 2, 3, 4, 5)  # 6月〜翌年5月
ORDINARY_MONTHS = (6, 8, 10, 1)  # 第1期〜第4期（6月・8月・10月・翌年1月が標準）


def special_collection_monthly(total: int) -> list[int]:
    """特別徴収の月割額: 12で割り、100円未満の端数は最初の月（6月）に（地方税法 第321条の5 第1項）."""
    monthly = total // 12 // 100 * 100
    return [total - monthly * 11] + [monthly] * 11


def ordinary_collection_instalments(total: int, instalments: int = 4, unit: int = 1000) -> list[int]:
    """普通徴収の各期: 2期以降は ``unit`` 未満を切り捨て、端数は第1期に（地方税法 第20条の4の2 第6項, 第320条）.

    ``unit`` is 1,000 yen by the law, or 100 yen where the municipality's 条例 says so.
    """
    later = total // instalments // unit * unit
    return [total - later * (instalments - 1)] + [later] * (instalments - 1)
