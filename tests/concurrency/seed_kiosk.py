"""Seed municipalities for the kiosk concurrency test; prints what it made as JSON on stdout.

Run in a subprocess with Django configured for the throwaway database (as the app
role), so everything goes through the actions exactly as in production::

    python -m tests.concurrency.seed_kiosk HOUSEHOLDS SINGLES PROTECTED LG_CODE...

Each municipality gets a kiosk account with its own API token, HOUSEHOLDS households
of three (head, wife, child) and SINGLES one-person households, the last PROTECTED of
them under 支援措置. Every resident's given name is a token 検<three kanji digits>郎
that no other resident shares, in any municipality, so a certificate's text tells
exactly whose it is.
"""

from __future__ import annotations

import json
import random
import sys
from datetime import date, timedelta
from typing import Any

DIGITS = "〇一二三四五六七八九"
FAMILIES = [
    ("佐藤", "サトウ"),
    ("鈴木", "スズキ"),
    ("髙橋", "タカハシ"),
    ("田中", "タナカ"),
    ("伊藤", "イトウ"),
    ("渡邉", "ワタナベ"),
    ("山本", "ヤマモト"),
    ("中村", "ナカムラ"),
    ("小林", "コバヤシ"),
    ("加藤", "カトウ"),
]
PASSWORD = "kiosk-concurrency-staple"  # a throwaway account in a throwaway cluster


def name_token(n: int) -> str:
    return "検" + "".join(DIGITS[int(d)] for d in f"{n:03d}") + "郎"


def main(households: int, singles: int, protected: int, lg_codes: list[str]) -> None:
    import django

    django.setup()
    from django.utils import timezone

    from lgcloud.accounts.actions import create_api_token, create_staff
    from lgcloud.core.permissions import Role
    from lgcloud.core.tenancy import TenantContext
    from lgcloud.municipalities.actions import create_municipality, shipped_rows
    from lgcloud.registry import actions, kiosk, queries

    rng = random.Random(20230327)  # noqa: S311  (test data, not secrets; the day of the Yokohama incident)
    rows = {r["lg_code"]: r for r in shipped_rows()}
    counter = 0
    out: dict[str, Any] = {"municipalities": {}, "residents": []}

    def new_person(relationship: str, family: tuple[str, str], birth: date) -> actions.NewPerson:
        nonlocal counter
        counter += 1
        return actions.NewPerson(
            family_name=family[0],
            given_name=name_token(counter),
            family_name_kana=family[1],
            given_name_kana="ケンロウ",
            birth_date=birth,
            sex="2" if relationship == "wife" else "1",
            relationship=relationship,
        )

    for lg_code in lg_codes:
        row = rows[lg_code]
        keys = ("lg_code", "name", "name_kana", "prefecture_code", "prefecture", "county", "kind")
        create_municipality(
            TenantContext.system(None, purpose="test.seed"),
            **{k: row[k] for k in keys},
            kyuchi=row["kyuchi"],
            on_platform=True,
        )
        ctx = TenantContext.system(lg_code, purpose="test.seed")
        machine = create_staff(
            ctx, username="kiosk-01", display_name="コンビニ交付端末 01", roles=[Role.KIOSK], password=PASSWORD
        )
        out["municipalities"][lg_code] = {"token": create_api_token(ctx, machine.staff.pk, name="kiosk").raw}
        sizes = [3] * households + [1] * singles
        for i, size in enumerate(sizes):
            family = FAMILIES[(i + len(out["residents"])) % len(FAMILIES)]
            born = date(1960, 1, 1) + timedelta(days=rng.randrange(0, 365 * 30))
            people = [new_person("head", family, born)]
            if size == 3:
                people.append(new_person("wife", family, born + timedelta(days=400)))
                people.append(new_person("child", family, born + timedelta(days=365 * 28)))
            moved = actions.register_move_in(
                ctx,
                persons=people,
                address=f"東京都{row['name']}一丁目{i + 1}番{size}号",
                effective_date=date(2024, 4, 1),
                filed_on=date(2024, 4, 2),
                previous_address="",
            )
            under_protection = size == 1 and i >= len(sizes) - protected
            for atena, p in zip(moved.atena_numbers, people, strict=True):
                record = queries.get_record(ctx, atena)
                pin = f"{rng.randrange(10000):04d}"
                kiosk.set_kiosk_pin(ctx, atena_number=atena, pin=pin)
                if under_protection:
                    actions.set_protection(
                        ctx,
                        atena_number=atena,
                        starts_on=timezone.localdate(),
                        adversary=actions.Adversary("加害 者"),
                    )
                out["residents"].append(
                    {
                        "lg_code": lg_code,
                        "atena": atena,
                        "resident_code": record.resident_code,
                        "token": p.given_name,
                        "household": record.household_number,
                        "pin": pin,
                        "protected": under_protection,
                    }
                )
    json.dump(out, sys.stdout, ensure_ascii=False)


if __name__ == "__main__":
    main(int(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3]), sys.argv[4:])
