"""``lgcloud demo_residents``: synthetic residents with households and history for the demo municipalities.

Idempotent: a municipality that already has residents is left alone. For each
of 千代田区, 新宿区 and 八王子市 about 2,000 residents are loaded: most in bulk
(a town as it stood a year ago, with its 転入・出生・転居 history), then a year of
real 異動 through the actions — 転居, 出生, 死亡, 転入, 転出 — so the recent
history is exactly what the counter would have made. Among them, residents
whose 氏 is written with 髙, 﨑 (U+FA11), 𠮷 (U+20BB7) and an IVS sequence
(葛 + U+E0100), one person under 支援措置, and a few 個人番号.
"""

from __future__ import annotations

import random
from datetime import date, timedelta
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import transaction
from django.utils import timezone

from lgcloud.core.checkdigits import individual_number_check_digit
from lgcloud.core.tenancy import TenantContext
from lgcloud.municipalities.queries import get_municipality
from lgcloud.registry import actions
from lgcloud.registry.bulk import LoadedHousehold, count_residents, load_households, town_summary
from lgcloud.registry.codes import Relationship
from lgcloud.registry.generator import Resident, TownGenerator, age_on, generate_town

# The same three as accounts' demo command (which calls this one; registry may not import accounts).
DEMO_MUNICIPALITIES = ("131016", "131041", "132012")  # 千代田区, 新宿区, 八王子市
BULK_RESIDENTS = 1950  # per municipality; then a year of 異動 through the actions, in proportion:
EVENTS_PER_1950 = {"address_change": 80, "birth": 50, "death": 30, "move_out": 10, "move_in": 20}
INDIVIDUAL_NUMBERS = 5

# 氏 as the 戸籍 writes them: search finds them by the common form (高橋, 山崎, 吉田, 葛西).
SPECIAL_HOUSEHOLDS: tuple[tuple[str, str, tuple[tuple[str, str, str, date, str], ...]], ...] = (
    (
        "髙橋",
        "タカハシ",
        (
            ("健一", "ケンイチ", "1", date(1975, 6, 12), Relationship.HEAD),
            ("直子", "ナオコ", "2", date(1978, 2, 3), Relationship.WIFE),
            ("翔太", "ショウタ", "1", date(2010, 9, 30), Relationship.CHILD),
        ),
    ),
    ("山\ufa11", "ヤマザキ", (("美加子", "ミカコ", "2", date(1985, 11, 20), Relationship.HEAD),)),
    (
        "\U00020bb7田",
        "ヨシダ",
        (
            ("陽一", "ヨウイチ", "1", date(1962, 4, 8), Relationship.HEAD),
            ("陽子", "ヨウコ", "2", date(1965, 7, 21), Relationship.WIFE),
        ),
    ),
    (
        "葛\U000e0100西",
        "カサイ",
        (
            ("亮介", "リョウスケ", "1", date(1990, 1, 15), Relationship.HEAD),
            ("結衣", "ユイ", "2", date(1992, 8, 2), Relationship.WIFE),
        ),
    ),
)


def new_person(r: Resident, individual_number: str | None = None) -> actions.NewPerson:
    return actions.NewPerson(
        family_name=r.family_name,
        given_name=r.given_name,
        family_name_kana=r.family_name_kana,
        given_name_kana=r.given_name_kana,
        birth_date=r.birth_date,
        sex=r.sex,
        relationship=r.relationship,
        former_family_name=r.former_family_name,
        alias=r.alias,
        registered_domicile=r.registered_domicile,
        domicile_head=r.domicile_head,
        voter_registered=r.voter_registered,
        is_foreign=r.is_foreign,
        foreign=r.foreign,
        individual_number=individual_number,
    )


class Command(BaseCommand):
    help = (
        "デモ団体（千代田区・新宿区・八王子市）に合成住民（世帯・異動履歴つき）を登録します。"
        "住民がいる団体は変更しません。"
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--residents", type=int, default=BULK_RESIDENTS, help="一括登録する住民の数（団体ごと。異動はこれに比例）"
        )
        parser.add_argument("--force", action="store_true", help="本番設定（LGCLOUD_ENV=production）でも実行する")

    def handle(self, *args: Any, **options: Any) -> None:
        if not settings.DEVELOPMENT and not options["force"]:
            raise CommandError("デモデータは開発環境（LGCLOUD_ENV=development）でのみ作成します。")
        today = timezone.localdate()
        self.stdout.write("デモ住民（合成データ。登録済みの団体はそのまま）")
        for code in DEMO_MUNICIPALITIES:
            municipality = get_municipality(code)
            if municipality is None:
                raise CommandError(f"団体 {code} がありません。先に lgcloud load_municipalities を実行してください。")
            ctx = TenantContext.system(code, purpose="demo", actor_name="demo")
            if not count_residents(ctx):
                # All or nothing per municipality, so a failed run leaves nothing a rerun would skip.
                with transaction.atomic():
                    _DemoTown(ctx, municipality.full_name, today, options["residents"]).build()
            s = town_summary(ctx, today=today)
            self.stdout.write(
                f"  {municipality.name}（{code}）: 住民 {s.residents:,} 人、世帯 {s.households:,}、"
                f"異動 {s.changes:,} 件、支援措置 {s.protected} 人、個人番号 {s.individual_numbers} 人"
            )
        self.stdout.write("  検索の例: 高橋（髙橋）、山崎（山﨑）、吉田（𠮷田）、カサイ（葛󠄀西）")


class _DemoTown:
    def __init__(self, ctx: TenantContext, name: str, today: date, residents: int) -> None:
        self.ctx = ctx
        self.residents = residents
        self.events = {k: max(1, round(v * residents / BULK_RESIDENTS)) for k, v in EVENTS_PER_1950.items()}
        self.today = today
        self.as_of = today - timedelta(days=365)
        code = ctx.tenant_code
        # Synthetic demo data, not secrets: a seeded PRNG makes every installation's demo alike.
        self.rng = random.Random(f"demo:{code}")  # noqa: S311
        self.town = TownGenerator(code, seed=1, as_of=self.as_of, municipality_name=name)
        self.name = name

    def _day(self) -> date:
        """A day of the last year, on which the 異動 happened."""
        return self.as_of + timedelta(days=self.rng.randint(1, (self.today - self.as_of).days - 1))

    def _filed(self, effective: date) -> date:
        return min(effective + timedelta(days=self.rng.choice((0, 0, 1, 3, 7, 13, 20))), self.today)

    def build(self) -> None:
        code = self.ctx.tenant_code
        loaded = load_households(
            self.ctx,
            generate_town(code, self.residents, seed=0, as_of=self.as_of, history=True, municipality_name=self.name),
            collect=True,
            today=self.today,
        ).loaded
        self._special_households()
        untouched = self._counter_year(loaded)
        self._individual_numbers(untouched)

    def _special_households(self) -> None:
        """Residents with variant characters, through the 転入 action; one of them under 支援措置."""
        for family, kana, people in SPECIAL_HOUSEHOLDS:
            persons = [
                actions.NewPerson(family, given, kana, given_kana, birth, sex, rel, voter_registered=rel != "child")
                for given, given_kana, sex, birth, rel in people
            ]
            moved_in = self._day()
            address, detail = self.town.local_address()
            result = actions.register_move_in(
                self.ctx,
                persons=persons,
                address=address,
                address_detail=detail,
                effective_date=moved_in,
                filed_on=self._filed(moved_in),
                previous_address=self.town.other_address(),
                confirm_duplicates=True,
            )
            if family == "山\ufa11":
                # 支援措置 (DV): her former husband must not learn where she lives.
                actions.set_protection(
                    self.ctx,
                    atena_number=result.atena_numbers[0],
                    starts_on=self.today - timedelta(days=30),
                    adversary=actions.Adversary("山崎 一郎", date(1983, 5, 1)),
                    reason="配偶者からの暴力（DV）",
                )

    def _counter_year(self, loaded: list[LoadedHousehold]) -> list[LoadedHousehold]:
        """A year of 異動 at the counter, in date order, each household touched once; returns the untouched."""
        pool = list(loaded)
        self.rng.shuffle(pool)
        planned: list[tuple[date, str, Any]] = []

        def take(accept: Any, n: int, kind: str) -> None:
            taken = 0
            for item in list(pool):
                if taken == n:
                    break
                on = self._day()
                if accept(item, on):
                    pool.remove(item)
                    planned.append((on, kind, item))
                    taken += 1

        take(lambda h, on: True, self.events["address_change"], "address_change")
        take(self._can_have_a_child, self.events["birth"], "birth")
        take(lambda h, on: self._who_dies(h) is not None, self.events["death"], "death")
        take(lambda h, on: True, self.events["move_out"], "move_out")
        for _ in range(self.events["move_in"]):
            planned.append((self._day(), "move_in", self.town.household()))
        planned.sort(key=lambda p: (p[0], p[1]))
        for on, kind, item in planned:
            getattr(self, f"_{kind}")(on, item)
        return pool

    # -- the 異動 ------------------------------------------------------------------------------

    def _address_change(self, on: date, h: LoadedHousehold) -> None:
        address, detail = self.town.local_address()
        actions.register_address_change(
            self.ctx,
            atena_numbers=list(h.atena_numbers),
            address=address,
            address_detail=detail,
            effective_date=on,
            filed_on=self._filed(on),
        )

    def _can_have_a_child(self, h: LoadedHousehold, on: date) -> bool:
        head = h.household.head
        wives = [m for m in h.household.members if m.relationship == Relationship.WIFE]
        return (
            not head.is_foreign
            and head.sex == "1"
            and len(h.household.members) < 6
            and any(20 <= age_on(w.birth_date, on) <= 43 for w in wives)
            and 20 <= age_on(head.birth_date, on) <= 45
        )

    def _birth(self, on: date, h: LoadedHousehold) -> None:
        child = self.town.child_of(h.household.head, on)
        actions.register_birth(
            self.ctx, household_number=h.household_number, person=new_person(child), filed_on=self._filed(on)
        )

    def _who_dies(self, h: LoadedHousehold) -> int | None:
        """The oldest member aged 75+, if the household stays well-formed without them."""
        members = h.household.members
        oldest = min(range(len(members)), key=lambda i: members[i].birth_date)
        if age_on(members[oldest].birth_date, self.as_of) < 75:
            return None
        others = [m.relationship for i, m in enumerate(members) if i != oldest]
        if oldest == 0 and others not in ([], [Relationship.WIFE], [Relationship.HUSBAND]):
            return None  # a successor with a new set of 続柄: left to the counter's judgement
        return oldest

    def _death(self, on: date, h: LoadedHousehold) -> None:
        who = self._who_dies(h)
        if who is None:  # chosen because someone would die; the household has not changed since
            raise RuntimeError(f"世帯 {h.household_number}: 死亡の対象がいません。")
        successor = None
        if who == 0 and len(h.atena_numbers) > 1:
            successor = h.atena_numbers[1]  # the surviving spouse becomes 世帯主
        actions.register_death(
            self.ctx,
            atena_number=h.atena_numbers[who],
            effective_date=on,
            filed_on=self._filed(on),
            new_head=successor,
        )

    def _move_out(self, on: date, h: LoadedHousehold) -> None:
        filed = max(on - timedelta(days=self.rng.randint(0, 10)), self.as_of + timedelta(days=1))
        atenas = list(h.atena_numbers)
        actions.register_move_out(
            self.ctx, atena_numbers=atenas, planned_date=on, filed_on=filed, destination=self.town.other_address()
        )
        notified = min(on + timedelta(days=self.rng.randint(3, 20)), self.today)
        if notified > on:  # the destination's 転出確定通知 has arrived
            actions.confirm_move_out(self.ctx, atena_numbers=atenas, effective_date=on, notified_on=notified)

    def _move_in(self, on: date, household: Any) -> None:
        event = household.events[0]
        actions.register_move_in(
            self.ctx,
            persons=[new_person(m) for m in household.members],
            address=event.address,
            address_detail=event.address_detail,
            effective_date=on,
            filed_on=self._filed(on),
            previous_address=event.previous_address,
            origin=event.origin,
            confirm_duplicates=True,
        )

    def _individual_numbers(self, untouched: list[LoadedHousehold]) -> None:
        people = [h.atena_numbers[0] for h in untouched[:INDIVIDUAL_NUMBERS]]
        for atena in people:
            base = "".join(self.rng.choice("0123456789") for _ in range(11))
            actions.set_individual_number(
                self.ctx, atena_number=atena, individual_number=base + individual_number_check_digit(base)
            )
