"""Seed one municipality for the failover drill; prints its API token and households as JSON.

Run in a subprocess with Django configured for the drill's database (as the app role)::

    python -m tests.failover.seed LG_CODE HOUSEHOLDS
"""

from __future__ import annotations

import json
import sys
from datetime import date

PASSWORD = "failover-drill-staple"  # a throwaway account in a throwaway cluster


def main(lg_code: str, households: int) -> None:
    import django

    django.setup()
    from lgcloud.accounts.actions import create_api_token, create_staff
    from lgcloud.core.permissions import Role
    from lgcloud.core.tenancy import TenantContext
    from lgcloud.municipalities.actions import create_municipality, shipped_rows
    from lgcloud.registry import actions

    row = next(r for r in shipped_rows() if r["lg_code"] == lg_code)
    keys = ("lg_code", "name", "name_kana", "prefecture_code", "prefecture", "county", "kind")
    create_municipality(
        TenantContext.system(None, purpose="drill.seed"),
        **{k: row[k] for k in keys},
        kyuchi=row["kyuchi"],
        on_platform=True,
    )
    ctx = TenantContext.system(lg_code, purpose="drill.seed")
    clerk = create_staff(
        ctx, username="drill", display_name="訓練 担当", roles=[Role.REGISTRY_CLERK], password=PASSWORD
    )
    token = create_api_token(ctx, clerk.staff.pk, name="drill").raw
    numbers = []
    for i in range(households):
        moved = actions.register_move_in(
            ctx,
            persons=[actions.NewPerson("訓練", f"親{i}", "クンレン", "オヤ", date(1985, 1, 1 + i % 28), "1", "head")],
            address=f"東京都{row['name']}一丁目{i + 1}番1号",
            effective_date=date(2024, 4, 1),
            filed_on=date(2024, 4, 2),
            previous_address="",
            confirm_duplicates=True,
        )
        numbers.append(moved.household_numbers[0])
    json.dump({"token": token, "households": numbers}, sys.stdout, ensure_ascii=False)


if __name__ == "__main__":
    main(sys.argv[1], int(sys.argv[2]))
