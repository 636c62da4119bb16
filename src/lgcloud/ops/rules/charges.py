"""The charge formula (pure): split an amount of yen in proportion to weights, to the yen, adding up exactly.

Largest-remainder (Hamilton) apportionment: each share is rounded down, then the yen left
over go one by one to the largest remainders (ties: the lower key first). Weights are
integers (measured quantities), so the arithmetic is exact; no float touches money.
"""

from __future__ import annotations

from collections.abc import Mapping


def apportion(total_yen: int, weights: Mapping[str, int]) -> dict[str, int]:
    """``total_yen`` split over ``weights``; all-zero weights split it equally."""
    if total_yen < 0:
        raise ValueError("total_yen must not be negative")
    if not weights:
        return {}
    if any(w < 0 for w in weights.values()):
        raise ValueError("weights must not be negative")
    effective = dict(weights) if sum(weights.values()) > 0 else dict.fromkeys(weights, 1)
    whole = sum(effective.values())
    floors = {k: total_yen * w // whole for k, w in effective.items()}
    remainders = sorted(effective, key=lambda k: (-(total_yen * effective[k] % whole), k))
    left = total_yen - sum(floors.values())
    for k in remainders[:left]:
        floors[k] += 1
    return floors


def permille(amount: int, part: int) -> int:
    """``part``‰ of ``amount``, rounded down (the remainder is given back by apportion)."""
    return amount * part // 1000
