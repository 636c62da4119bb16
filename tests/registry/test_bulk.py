"""The bulk write path: residents loaded in bulk look exactly like residents the actions registered."""

from __future__ import annotations

from dataclasses import replace
from datetime import date
from typing import Any

import pytest
from django.core.exceptions import PermissionDenied, ValidationError

from lgcloud.audit.models import AuditRecord
from lgcloud.core.sequences import next_value
from lgcloud.core.tenancy import TenantContext, bound
from lgcloud.registry import actions, queries
from lgcloud.registry.bulk import count_residents, load_households
from lgcloud.registry.generator import AddressChange, Birth, Household, MoveIn, Resident, generate_town
from lgcloud.registry.models import Change, Person, PersonVersion, ProtectionOrder
from lgcloud.registry.permissions import RegistryPermission
from lgcloud.registry.rules.record import ForeignResidentItems, ResidentRecord

pytestmark = pytest.mark.django_db

TODAY = date(2026, 11, 26)
AS_OF = date(2026, 11, 1)
# Numbers differ between two registrations of the same people; nothing else may.
NUMBERS = ("atena_number", "household_number", "resident_code")


def resident(family: str, given: str, kana: tuple[str, str], birth: date, sex: str, rel: str, **extra: Any) -> Resident:
    return Resident(family, given, kana[0], kana[1], birth, sex, rel, resident_code="12345678901", **extra)


TAKAHASHI = Household(
    members=(
        resident("髙橋", "太郎", ("ﾀｶﾊｼ", "タロウ"), date(1980, 4, 1), "1", "head", voter_registered=True),
        resident("髙橋", "花子", ("たかはし", "ハナコ"), date(1982, 5, 5), "2", "wife", former_family_name="山\ufa11"),
        resident("髙橋", "一郎", ("タカハシ", "イチロウ"), date(2012, 6, 6), "1", "child"),
        resident("髙橋", "次郎", ("タカハシ", "ジロウ"), date(2025, 2, 1), "1", "child"),
    ),
    events=(
        MoveIn(
            date(2024, 4, 1),
            date(2024, 4, 5),
            (0, 1, 2),
            "東京都千代田区霞が関一丁目1番1号",
            "",
            "大阪府大阪市北区梅田一丁目1番1号",
            "domestic",
        ),
        AddressChange(date(2024, 10, 1), date(2024, 10, 20), "東京都千代田区丸の内二丁目2番2号", "丸の内ハイツ302号室"),
        Birth(date(2025, 2, 1), date(2025, 2, 3), 3),
    ),
)
NGUYEN = Household(
    members=(
        resident(
            "NGUYEN",
            "VAN AN",
            ("グエン", "ヴァン アン"),
            date(1995, 1, 2),
            "1",
            "head",
            is_foreign=True,
            foreign=ForeignResidentItems(
                "ベトナム", "技術・人文知識・国際業務", "5年", date(2029, 3, 31), "AB12345678CD", "medium_long_term"
            ),
        ),
        resident("葛\U000e0100西", "\U00020bb7子", ("カサイ", "ヨシコ"), date(1996, 3, 3), "2", "cohabitant"),
    ),
    events=(
        MoveIn(
            date(2025, 6, 1),
            date(2025, 6, 2),
            (0, 1),
            "東京都千代田区神田神保町三丁目3番3号",
            "",
            "ベトナム社会主義共和国",
            "abroad",
        ),
    ),
)


def new_person(r: Resident) -> actions.NewPerson:
    return actions.NewPerson(
        r.family_name,
        r.given_name,
        r.family_name_kana,
        r.given_name_kana,
        r.birth_date,
        r.sex,
        r.relationship,
        r.former_family_name,
        r.alias,
        r.registered_domicile,
        r.domicile_head,
        r.voter_registered,
        r.is_foreign,
        r.foreign,
    )


def register_with_actions(ctx: TenantContext, household: Household) -> list[str]:
    """The same household, 異動 by 異動, through the real actions; its 宛名番号 in member order."""
    atenas: dict[int, str] = {}
    number = ""
    for event in household.events:
        if isinstance(event, MoveIn):
            result = actions.register_move_in(
                ctx,
                persons=[new_person(household.members[i]) for i in event.members],
                address=event.address,
                address_detail=event.address_detail,
                effective_date=event.effective_date,
                filed_on=event.filed_on,
                previous_address=event.previous_address,
                origin=event.origin,
            )
            atenas.update(zip(event.members, result.atena_numbers, strict=True))
            number = result.household_numbers[0]
        elif isinstance(event, Birth):
            result = actions.register_birth(
                ctx,
                household_number=number,
                person=new_person(household.members[event.member]),
                filed_on=event.filed_on,
            )
            atenas[event.member] = result.atena_numbers[0]
        else:
            actions.register_address_change(
                ctx,
                atena_numbers=[atenas[i] for i in sorted(atenas)],
                address=event.address,
                address_detail=event.address_detail,
                effective_date=event.effective_date,
                filed_on=event.filed_on,
            )
    return [atenas[i] for i in range(len(household.members))]


def without_numbers(rec: ResidentRecord | None) -> dict[str, Any] | None:
    if rec is None:
        return None
    return {k: v for k, v in rec.to_json().items() if k not in NUMBERS}


def projection(atena: str) -> dict[str, Any]:
    row = Person.objects.values().get(atena_number=atena)
    record = {k: v for k, v in row.pop("record").items() if k not in NUMBERS}
    for key in ("id", "atena_number", "resident_code", "household_id", "updated_at"):
        row.pop(key)
    return {**row, "record": record}


def history(ctx: TenantContext, atena: str) -> list[tuple[Any, ...]]:
    return [
        (h.change_type, h.effective_date, h.filed_on, h.late_filing, h.corrects, without_numbers(h.record))
        for h in queries.get_history(ctx, atena)
    ]


def summaries(rows: list[queries.PersonSummary]) -> list[tuple[Any, ...]]:
    return [(s.full_name, s.full_name_kana, s.birth_date, s.address, s.relationship, s.status) for s in rows]


@pytest.mark.parametrize("household", [TAKAHASHI, NGUYEN], ids=["family_with_history", "foreign_and_variants"])
def test_bulk_loaded_residents_are_indistinguishable_from_registered_ones(
    clerk: TenantContext, household: Household
) -> None:
    # Actions first: they warn about a likely duplicate, and the bulk twins would be one.
    made = register_with_actions(clerk, household)
    loaded = load_households(clerk, [household], collect=True, today=TODAY).loaded[0]
    bulk = list(loaded.atena_numbers)

    for b, m in zip(bulk, made, strict=True):
        assert without_numbers(queries.get_record(clerk, b)) == without_numbers(queries.get_record(clerk, m))
        assert projection(b) == projection(m)
        assert history(clerk, b) == history(clerk, m)
        for on in (date(2024, 3, 31), date(2024, 6, 1), date(2024, 10, 1), date(2025, 2, 1), TODAY):
            assert without_numbers(queries.get_record_as_of(clerk, b, on)) == without_numbers(
                queries.get_record_as_of(clerk, m, on)
            )
    b_number = queries.get_record(clerk, bulk[0]).household_number
    m_number = queries.get_record(clerk, made[0]).household_number
    assert summaries(queries.get_household(clerk, b_number, today=TODAY)) == summaries(
        queries.get_household(clerk, m_number, today=TODAY)
    )
    # Search folds variants and widths the same way for both: each person is found twice, alike.
    head = household.members[0]
    for query in (
        queries.SearchQuery(name=head.family_name.replace("髙", "高")),
        queries.SearchQuery(kana=head.family_name_kana),
        queries.SearchQuery(birth_date=head.birth_date),
        queries.SearchQuery(address=household.address[0][:12]),
    ):
        found = queries.search_persons(clerk, query, today=TODAY).results
        by_atena = {s.atena_number: s for s in found}
        assert bulk[0] in by_atena and made[0] in by_atena, query
        pairs = [(b, m) for b, m in zip(bulk, made, strict=True) if b in by_atena or m in by_atena]
        assert summaries([by_atena[b] for b, _ in pairs]) == summaries([by_atena[m] for _, m in pairs])
    # The 異動 themselves: same kinds, dates, flags and details.
    changes = [
        [(c.change_type, c.effective_date, c.filed_on, c.late_filing, c.details, c.actor_name) for c in rows]
        for rows in (
            Change.objects.filter(versions__person__atena_number__in=atenas).distinct().order_by("change_number")
            for atenas in (bulk, made)
        )
    ]
    assert changes[0] == changes[1]


def test_a_generated_town_keeps_every_invariant(clerk: TenantContext) -> None:
    town = list(generate_town("131016", 300, seed=4, as_of=AS_OF, history=True, individual_number_rate=0.02))
    stats = load_households(clerk, town, batch_size=100, today=TODAY)
    assert (stats.persons, stats.households) == (300, len(town))
    assert stats.changes == sum(len(h.events) for h in town) == Change.objects.count()
    assert stats.versions == PersonVersion.objects.count()
    people = list(Person.objects.all())
    assert len({p.atena_number for p in people}) == 300
    heads: dict[int, int] = {}
    for p in people:
        heads[p.household_id] = heads.get(p.household_id, 0) + p.is_household_head
        assert p.is_household_head == (p.relationship == "head")
        newest = PersonVersion.objects.filter(person=p).order_by("-effective_date", "-id").first()
        assert newest is not None and newest.record == p.record
    assert set(heads.values()) == {1}
    numbers = sorted(Change.objects.values_list("change_number", flat=True))
    assert numbers == list(range(1, len(numbers) + 1))
    assert count_residents(clerk) == 300
    with_number = [p for p in people if p.individual_number_ciphertext is not None]
    assert with_number
    revealed = queries.reveal_individual_number(clerk, with_number[0].atena_number, purpose="テスト")
    assert revealed is not None and len(revealed) == 12


def test_one_audit_record_per_batch_naming_its_changes(clerk: TenantContext) -> None:
    town = generate_town("131016", 120, seed=9, as_of=AS_OF)
    stats = load_households(clerk, town, batch_size=50, today=TODAY)
    records = list(
        AuditRecord.objects.filter(municipality_id=clerk.lg_code, action="registry.bulk_load").order_by("id")
    )
    assert len(records) == stats.batches >= 3
    covered = []
    for r in records:
        first, last = map(int, r.subject_id.split("-"))
        covered += range(first, last + 1)
        assert (r.actor_name, r.subject_type) == (clerk.actor_name, "change_range")
    assert covered == sorted(Change.objects.values_list("change_number", flat=True))


def test_numbers_continue_after_a_bulk_load(clerk: TenantContext) -> None:
    stats = load_households(clerk, generate_town("131016", 30, seed=2, as_of=AS_OF), today=TODAY)
    result = actions.register_move_in(
        clerk,
        persons=[new_person(TAKAHASHI.members[0])],
        address="東京都千代田区一番町1番1号",
        effective_date=date(2026, 1, 5),
        filed_on=date(2026, 1, 6),
        previous_address="x",
    )
    assert result.atena_numbers == [f"{stats.persons + 1:010d}"]
    assert result.household_numbers == [f"{stats.households + 1:010d}"]
    assert result.change_number == stats.changes + 1


def test_a_bad_household_refuses_its_whole_batch(clerk: TenantContext) -> None:
    two_heads = replace(
        TAKAHASHI,
        members=(TAKAHASHI.members[0], replace(TAKAHASHI.members[1], relationship="head"), *TAKAHASHI.members[2:]),
    )
    good = list(generate_town("131016", 10, seed=1, as_of=AS_OF))
    with pytest.raises(ValidationError, match="世帯主が複数"):
        load_households(clerk, [*good, two_heads], today=TODAY)
    assert not Person.objects.exists()
    assert not AuditRecord.objects.filter(action="registry.bulk_load").exists()
    with bound(clerk):
        assert next_value(clerk, "registry.atena") == 1  # the reserved numbers went back too
    bad_number = replace(TAKAHASHI.members[0], individual_number="123456789012")
    with pytest.raises(ValidationError, match="検査用数字"):
        load_households(clerk, [replace(TAKAHASHI, members=(bad_number, *TAKAHASHI.members[1:]))], today=TODAY)


def test_bulk_needs_the_write_permission(clerk: TenantContext) -> None:
    reader = replace(clerk, permissions=frozenset({RegistryPermission.RESIDENT_READ}))
    with pytest.raises(PermissionDenied):
        load_households(reader, [TAKAHASHI], today=TODAY)
    assert not Person.objects.exists()


def test_the_fast_record_encoding_is_to_json() -> None:
    from lgcloud.registry.bulk import entry_record, record_json
    from lgcloud.registry.rules.record import Qualifications

    households = [*generate_town("131041", 300, seed=8, as_of=AS_OF, foreign_rate=0.3), TAKAHASHI, NGUYEN]
    for h in households:
        for i, m in enumerate(h.members):
            rec = entry_record(
                m,
                atena=f"{i:010d}",
                household="0000000001",
                address=h.address[0],
                address_detail=h.address[1],
                since=AS_OF,
                filed_on=None,
                previous_address="",
                resident_code=m.resident_code,
            )
            assert record_json(rec) == rec.to_json()
            moved = rec.replace(
                status="removed", removed_on=AS_OF, qualifications=Qualifications(national_pension="1号")
            )
            assert record_json(moved) == moved.to_json()


def test_the_generate_town_command(clerk: TenantContext) -> None:
    from io import StringIO

    from django.core.management import call_command
    from django.core.management.base import CommandError

    out = StringIO()
    call_command("generate_town", municipality="131016", residents=60, seed=3, history=True, dry_run=True, stdout=out)
    assert "住民 60" in out.getvalue() and not Person.objects.exists()
    call_command("generate_town", municipality="131016", residents=60, seed=3, history=True, batch=25, stdout=out)
    assert count_residents(clerk) == 60
    assert AuditRecord.objects.filter(action="registry.bulk_load").count() == 3
    assert not ProtectionOrder.objects.exists()  # below 1,000 residents: none unless asked
    with pytest.raises(CommandError, match="団体 999999"):
        call_command("generate_town", municipality="999999", residents=1)


def test_a_generated_town_gets_a_few_protections_and_individual_numbers(clerk: TenantContext) -> None:
    from io import StringIO

    from django.core.management import call_command

    out = StringIO()
    call_command(
        "generate_town",
        municipality="131041",
        residents=80,
        seed=5,
        protections=2,
        individual_number_rate=0.25,
        stdout=out,
    )
    assert "支援措置 2 人" in out.getvalue()
    orders = ProtectionOrder.objects.filter(municipality_id="131041")
    applicants = {o.applicant_id for o in orders}
    assert len(applicants) == 2 and orders.count() >= 2
    for order in orders:  # the applicant is an adult; family under 18 of the same household go with them
        assert order.person.household_id == order.applicant.household_id
    numbers = Person.objects.filter(municipality_id="131041", individual_number_ciphertext__isnull=False).count()
    assert 5 <= numbers <= 40
