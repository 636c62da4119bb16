"""Register households through the actions (as the app role), for the restore test.

python -m tests.placement.residents LG_CODE FAMILY COUNT   # prints the new 宛名番号 as JSON
"""

from __future__ import annotations

import json
import sys
from datetime import date


def main(lg_code: str, family: str, count: int) -> None:
    import django

    django.setup()
    from lgcloud.core.tenancy import TenantContext
    from lgcloud.registry import actions

    ctx = TenantContext.system(lg_code, purpose="test.residents")
    numbers: list[str] = []
    for i in range(count):
        moved = actions.register_move_in(
            ctx,
            persons=[actions.NewPerson(family, f"{i}郎", "テスト", "ロウ", date(1980, 1, 1 + i % 28), "1", "head")],
            address=f"東京都テスト区{i + 1}丁目",
            effective_date=date(2025, 4, 1),
            filed_on=date(2025, 4, 2),
            previous_address="",
            confirm_duplicates=True,
        )
        numbers += moved.atena_numbers
    json.dump(numbers, sys.stdout)


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2], int(sys.argv[3]))
