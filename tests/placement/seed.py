"""Seed two municipalities for the placement test: A stays on ``default``, B is placed on cluster ``c2``.

python -m tests.placement.seed A_CODE B_CODE      # prints {"A_CODE": token, "B_CODE": token}
"""

from __future__ import annotations

import json
import sys


def main(codes: list[str]) -> None:
    import django

    django.setup()
    from django.conf import settings

    from lgcloud.accounts.actions import create_api_token, create_staff
    from lgcloud.core.permissions import Role
    from lgcloud.core.tenancy import TenantContext
    from lgcloud.municipalities.actions import create_municipality, shipped_rows
    from lgcloud.ops.placement import place

    rows = {r["lg_code"]: r for r in shipped_rows()}
    tokens = {}
    for i, lg_code in enumerate(codes):
        row = rows[lg_code]
        keys = ("lg_code", "name", "name_kana", "prefecture_code", "prefecture", "county", "kind")
        create_municipality(
            TenantContext.system(None, purpose="test.seed"),
            **{k: row[k] for k in keys},
            kyuchi=row["kyuchi"],
            on_platform=True,
        )
        if i == 1 and "c2" in settings.TENANT_CLUSTERS:
            place(lg_code, "c2")
        ctx = TenantContext.system(lg_code, purpose="test.seed")
        clerk = create_staff(
            ctx, username="juki", display_name="住記 担当", roles=[Role.REGISTRY_CLERK], password="placement-staple-1"
        )
        tokens[lg_code] = create_api_token(ctx, clerk.staff.pk, name="test").raw
    json.dump(tokens, sys.stdout)


if __name__ == "__main__":
    main(sys.argv[1:])
