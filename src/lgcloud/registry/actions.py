"""Writes to the resident registry. Every 異動 is one transaction: the Change, the new
PersonVersions, the Person projections and the audit record, or nothing at all.
"""

from __future__ import annotations

import secrets
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from django.core.exceptions import ValidationError
from django.http import Http404
from django.utils import timezone

from lgcloud.audit.actions import record as audit
from lgcloud.core import crypto
from lgcloud.core.checkdigits import CheckDigitError, validate_individual_number, validate_lg_code
from lgcloud.core.sequences import next_value
from lgcloud.core.tenancy import TenantContext, bound

from .bulk import entry_record, person_values
from .codes import FILING_TYPES, ChangeType, Relationship, RemovalReason, ResidentStatus
from .events import announce_change
from .models import Change, Household, Person, PersonVersion
from .permissions import RegistryPermission
from .rules.changes import (
    Problem,
    check_dates,
    check_households,
    check_not_removed,
    duplicate_key,
    is_late_filing,
)
from .rules.record import ForeignResidentItems, ResidentRecord, fold_kana, fold_name

WRITE = RegistryPermission.RESIDENT_WRITE
INDIVIDUAL_NUMBER = b"individual_number"


def _today() -> date:
    return timezone.localdate()


@dataclass(frozen=True)
class NewPerson:
    """A person entering the register (転入・出生・職権記載)."""

    family_name: str
    given_name: str
    family_name_kana: str
    given_name_kana: str
    birth_date: date
    sex: str
    relationship: str
    former_family_name: str = ""
    alias: str = ""
    registered_domicile: str = ""
    domicile_head: str = ""
    voter_registered: bool = False
    is_foreign: bool = False
    foreign: ForeignResidentItems = field(default_factory=ForeignResidentItems)
    individual_number: str | None = None


@dataclass(frozen=True)
class ChangeResult:
    change_number: int
    change_type: str
    atena_numbers: list[str]
    household_numbers: list[str]
    late_filing: bool
    warnings: list[str]


class PossibleDuplicate(ValidationError):
    """A new person looks like someone already registered; resubmit with confirm_duplicates."""


def _refuse(problems: list[Problem]) -> None:
    if problems:
        errors: dict[str, list[str]] = {}
        for p in problems:
            errors.setdefault(p.field, []).append(p.message)
        raise ValidationError(errors)


def _check_kana(value: str, field_name: str) -> list[Problem]:
    folded = fold_kana(value)
    if value and not all("ァ" <= ch <= "ヺ" or ch == "ー" for ch in folded):
        return [Problem(field_name, "カナは全角カタカナで入力してください。")]
    return []


_new_record = entry_record  # one way to build an entering person's 住民票 (shared with bulk loads)


def _resident_code() -> str:
    # 住民票コード is issued by J-LIS in production; here: 11 random digits.
    return "".join(secrets.choice("0123456789") for _ in range(11))


@dataclass
class _Plan:
    """What one 異動 does: records before and after, per 宛名番号."""

    change_type: str
    effective_date: date
    filed_on: date | None
    reason: str
    before: dict[str, ResidentRecord | None] = field(default_factory=dict)
    after: dict[str, ResidentRecord] = field(default_factory=dict)
    new_households: set[str] = field(default_factory=set)
    individual_numbers: dict[str, str] = field(default_factory=dict)
    details: dict[str, Any] = field(default_factory=dict)
    corrects: Change | None = None
    confirm_duplicates: bool = False


def _load(ctx: TenantContext, atena_numbers: Iterable[str]) -> dict[str, ResidentRecord]:
    """Current records, locked for this transaction; a missing or foreign one is 404."""
    wanted = list(dict.fromkeys(atena_numbers))
    rows = {
        p.atena_number: p
        for p in Person.objects.select_for_update().filter(municipality_id=ctx.tenant_code, atena_number__in=wanted)
    }
    missing = [a for a in wanted if a not in rows]
    if missing:
        raise Http404(f"宛名番号 {', '.join(missing)} の住民が見つかりません。")
    return {a: ResidentRecord.from_json(rows[a].record) for a in wanted}


def _household_members(
    ctx: TenantContext, numbers: Iterable[str], excluding: Iterable[str]
) -> dict[str, list[ResidentRecord]]:
    excluded = set(excluding)
    members: dict[str, list[ResidentRecord]] = {n: [] for n in numbers}
    rows = Person.objects.filter(
        municipality_id=ctx.tenant_code, household__household_number__in=list(members)
    ).exclude(status=ResidentStatus.REMOVED)
    for p in rows:
        if p.atena_number not in excluded:
            rec = ResidentRecord.from_json(p.record)
            members[rec.household_number].append(rec)
    return members


def _commit(ctx: TenantContext, plan: _Plan) -> ChangeResult:
    today = _today()
    problems = check_not_removed(plan.change_type, plan.before)
    problems += check_dates(plan.change_type, plan.effective_date, plan.filed_on, plan.after.values(), today=today)
    touched = {r.household_number for r in plan.after.values()} | {
        r.household_number for r in plan.before.values() if r is not None
    }
    members = _household_members(ctx, touched, plan.after)
    for rec in plan.after.values():
        members.setdefault(rec.household_number, []).append(rec)
    # For the 世帯主 rule only residents count: someone moving out has left the household.
    problems += check_households(
        {n: [m for m in ms if m.status == ResidentStatus.RESIDENT] for n, ms in members.items()}
    )
    for atena, number in plan.individual_numbers.items():
        try:
            validate_individual_number(number)
        except CheckDigitError as exc:
            problems.append(Problem("individual_number", f"宛名番号 {atena}: {exc.message}"))
    _refuse(problems)

    warnings: list[str] = []
    new_people = [rec for a, rec in plan.after.items() if plan.before.get(a) is None]
    for rec in new_people:
        name_key, birth, address_key = duplicate_key(rec)
        dupes = list(
            Person.objects.filter(
                municipality_id=ctx.tenant_code, name_key=name_key, birth_date=birth, address_key=address_key
            )
            .exclude(status=ResidentStatus.REMOVED)
            .values_list("atena_number", flat=True)
        )
        if dupes:
            message = (
                f"{rec.full_name}（{rec.birth_date}）と同じ氏名・生年月日・住所の住民がいます"
                f"（宛名番号 {', '.join(dupes)}）。"
            )
            if not plan.confirm_duplicates:
                raise PossibleDuplicate(
                    {"confirm_duplicates": [message + "同一人でないことを確認して再度登録してください。"]},
                    code="possible_duplicate",
                )
            warnings.append(message)

    late = plan.change_type in FILING_TYPES and is_late_filing(plan.effective_date, plan.filed_on)
    if late:
        warnings.append("届出期間（異動日から14日）を過ぎた届出です。届出期間経過の一覧に記載されます。")
    change = Change.objects.create(
        municipality_id=ctx.tenant_code,
        change_number=next_value(ctx, "registry.change"),
        change_type=plan.change_type,
        effective_date=plan.effective_date,
        filed_on=plan.filed_on,
        processed_at=timezone.now(),
        actor_id=ctx.actor_id,
        actor_name=ctx.actor_name,
        reason=plan.reason,
        corrects=plan.corrects,
        late_filing=late,
        details=plan.details,
        request_id=ctx.request_id,
    )
    households = {
        h.household_number: h
        for h in Household.objects.filter(municipality_id=ctx.tenant_code, household_number__in=list(touched))
    }
    for number in sorted(plan.new_households):
        households[number] = Household.objects.create(
            municipality_id=ctx.tenant_code, household_number=number, created_on=plan.effective_date
        )
    # Heads step down before anyone steps up, so the partial unique index never sees two.
    ordered = sorted(plan.after.items(), key=lambda kv: kv[1].is_household_head)
    for atena, rec in ordered:
        person = _save_person(ctx, atena, rec, households[rec.household_number], plan.individual_numbers.get(atena))
        PersonVersion.objects.create(
            municipality_id=ctx.tenant_code,
            person=person,
            change=change,
            effective_date=plan.effective_date,
            record=rec.to_json(),
        )
    # 連携: the events go out in this same transaction, or not at all.
    announce_change(
        ctx,
        change_number=change.change_number,
        change_type=plan.change_type,
        effective_date=plan.effective_date,
        before=plan.before,
        after=plan.after,
        new_households=plan.new_households,
        details=plan.details,
    )
    audit(
        ctx,
        f"registry.change.{plan.change_type}",
        subject_type="change",
        subject_id=change.change_number,
        fields=sorted({name for a, rec in plan.after.items() for name in _changed_fields(plan.before.get(a), rec)}),
    )
    return ChangeResult(
        change.change_number, plan.change_type, list(plan.after), sorted(touched | plan.new_households), late, warnings
    )


def _changed_fields(before: ResidentRecord | None, after: ResidentRecord) -> list[str]:
    if before is None:
        return ["record"]
    old, new = before.to_json(), after.to_json()
    return [k for k in new if old.get(k) != new[k]]


def _save_person(
    ctx: TenantContext, atena: str, rec: ResidentRecord, household: Household, individual_number: str | None
) -> Person:
    values = person_values(rec)
    values["household"] = household
    if individual_number:
        values["individual_number_ciphertext"] = crypto.encrypt(ctx, individual_number, INDIVIDUAL_NUMBER)
    person, _ = Person.objects.update_or_create(municipality_id=ctx.tenant_code, atena_number=atena, defaults=values)
    return person


def _run(ctx: TenantContext, build: Callable[[], _Plan]) -> ChangeResult:
    ctx.require(WRITE)
    with bound(ctx):
        return _commit(ctx, build())


def _number(ctx: TenantContext, name: str) -> str:
    return f"{next_value(ctx, name):010d}"


def _check_new(persons: list[NewPerson]) -> None:
    problems: list[Problem] = []
    for i, p in enumerate(persons):
        if not p.family_name.strip():
            problems.append(Problem(f"persons.{i}.family_name", "氏を入力してください。"))
        if not p.family_name_kana.strip():
            problems.append(Problem(f"persons.{i}.family_name_kana", "氏のカナを入力してください。"))
        problems += _check_kana(p.family_name_kana, f"persons.{i}.family_name_kana")
        problems += _check_kana(p.given_name_kana, f"persons.{i}.given_name_kana")
        if p.relationship not in Relationship.values:
            problems.append(Problem(f"persons.{i}.relationship", "続柄が正しくありません。"))
    _refuse(problems)


# --- 届出 -------------------------------------------------------------------------------------


def register_move_in(
    ctx: TenantContext,
    *,
    persons: list[NewPerson],
    address: str,
    effective_date: date,
    filed_on: date | None,
    previous_address: str,
    address_detail: str = "",
    origin: str = "domestic",
    household_number: str | None = None,
    reason: str = "",
    ex_officio: bool = False,
    confirm_duplicates: bool = False,
    transfer_id: str = "",
) -> ChangeResult:
    """転入 (or 職権記載): new persons, in a new household or joining an existing one.

    ``transfer_id`` names the 転出証明書情報 received from another municipality on the
    platform (linkage's once-only move), so the event says which transfer it completes.
    """
    _check_new(persons)
    if not address.strip():
        _refuse([Problem("address", "住所を入力してください。")])

    def build() -> _Plan:
        plan = _Plan(
            ChangeType.EX_OFFICIO_ENTRY if ex_officio else ChangeType.MOVE_IN,
            effective_date,
            None if ex_officio else filed_on,
            reason,
            confirm_duplicates=confirm_duplicates,
            details={"origin": origin, "previous_address": previous_address},
        )
        if transfer_id:
            plan.details["transfer_id"] = transfer_id
        if household_number is None:
            number = _number(ctx, "registry.household")
            plan.new_households.add(number)
        else:
            if not Household.objects.filter(
                municipality_id=ctx.tenant_code, household_number=household_number
            ).exists():
                raise Http404("世帯が見つかりません。")
            number = household_number
        first = next_value(ctx, "registry.atena", count=len(persons))
        for i, p in enumerate(persons):
            atena = f"{first + i:010d}"
            plan.before[atena] = None
            plan.after[atena] = _new_record(
                p,
                atena=atena,
                household=number,
                address=address,
                address_detail=address_detail,
                since=effective_date,
                filed_on=plan.filed_on,
                previous_address=previous_address,
                resident_code=_resident_code(),
            )
            if p.individual_number:
                plan.individual_numbers[atena] = p.individual_number
        return plan

    return _run(ctx, build)


def register_birth(
    ctx: TenantContext, *, household_number: str, person: NewPerson, filed_on: date | None, reason: str = ""
) -> ChangeResult:
    """出生: the child joins a household at its address, from the birth date."""
    _check_new([person])

    def build() -> _Plan:
        head = (
            Person.objects.filter(
                municipality_id=ctx.tenant_code, household__household_number=household_number, is_household_head=True
            )
            .exclude(status=ResidentStatus.REMOVED)
            .first()
        )
        if head is None:
            raise Http404("世帯が見つかりません。")
        head_rec = ResidentRecord.from_json(head.record)
        atena = _number(ctx, "registry.atena")
        plan = _Plan(ChangeType.BIRTH, person.birth_date, filed_on, reason)
        plan.before[atena] = None
        plan.after[atena] = _new_record(
            person,
            atena=atena,
            household=household_number,
            address=head_rec.address,
            address_detail=head_rec.address_detail,
            since=person.birth_date,
            filed_on=filed_on,
            previous_address="",
            resident_code=_resident_code(),
        )
        if person.individual_number:
            plan.individual_numbers[atena] = person.individual_number
        return plan

    return _run(ctx, build)


def _with_new_head(
    plan: _Plan, ctx: TenantContext, new_head: str | None, relationships: Mapping[str, str] | None
) -> None:
    """When the 世帯主 leaves, the same 異動 names the successor and may re-set 続柄 of those who stay."""
    if new_head is None and not relationships:
        return
    stay = dict(relationships or {})
    if new_head is not None:
        stay[new_head] = Relationship.HEAD
    current = _load(ctx, [a for a in stay if a not in plan.after])
    for atena, rel in stay.items():
        base = plan.after.get(atena) or current[atena]
        plan.before.setdefault(atena, current.get(atena, base))
        plan.after[atena] = base.replace(relationship=rel, is_household_head=rel == Relationship.HEAD)


def register_death(
    ctx: TenantContext,
    *,
    atena_number: str,
    effective_date: date,
    filed_on: date | None,
    new_head: str | None = None,
    relationships: Mapping[str, str] | None = None,
    reason: str = "",
) -> ChangeResult:
    """死亡: the record becomes a 除票; a deceased 世帯主 is succeeded in the same 異動."""

    def build() -> _Plan:
        rec = _load(ctx, [atena_number])[atena_number]
        plan = _Plan(ChangeType.DEATH, effective_date, filed_on, reason)
        plan.before[atena_number] = rec
        plan.after[atena_number] = rec.replace(
            status=ResidentStatus.REMOVED,
            removal_reason=RemovalReason.DIED,
            removed_on=effective_date,
            is_household_head=False,
        )
        _with_new_head(plan, ctx, new_head, relationships)
        return plan

    return _run(ctx, build)


def register_move_out(
    ctx: TenantContext,
    *,
    atena_numbers: list[str],
    planned_date: date,
    filed_on: date,
    destination: str,
    new_head: str | None = None,
    relationships: Mapping[str, str] | None = None,
    reason: str = "",
    destination_lg_code: str = "",
) -> ChangeResult:
    """転出（予定）: filed before the move; the persons leave the household's count from now.

    ``destination_lg_code`` (the 団体コード of the destination) lets a destination on the
    platform receive the 転出証明書情報 itself (linkage's once-only move).
    """
    if not destination.strip():
        _refuse([Problem("destination", "転出先を入力してください。")])
    if destination_lg_code:
        try:
            validate_lg_code(destination_lg_code)
        except CheckDigitError as exc:
            _refuse([Problem("destination_lg_code", exc.message)])
        if destination_lg_code == ctx.lg_code:
            _refuse([Problem("destination_lg_code", "転出先に自団体は指定できません（転居として処理してください）。")])

    def build() -> _Plan:
        current = _load(ctx, atena_numbers)
        details: dict[str, Any] = {"destination": destination}
        if destination_lg_code:
            details["destination_lg_code"] = destination_lg_code
        plan = _Plan(ChangeType.MOVE_OUT_PLANNED, planned_date, filed_on, reason, details=details)
        for atena, rec in current.items():
            plan.before[atena] = rec
            plan.after[atena] = rec.replace(
                status=ResidentStatus.MOVING_OUT, moving_out_to=destination, is_household_head=False
            )
        _with_new_head(plan, ctx, new_head, relationships)
        return plan

    return _run(ctx, build)


def confirm_move_out(
    ctx: TenantContext, *, atena_numbers: list[str], effective_date: date, notified_on: date | None, reason: str = ""
) -> ChangeResult:
    """転出（確定）: on the destination's 転出確定通知 the records become 除票."""

    def build() -> _Plan:
        current = _load(ctx, atena_numbers)
        not_moving = [a for a, r in current.items() if r.status != ResidentStatus.MOVING_OUT]
        if not_moving:
            _refuse([Problem("atena_numbers", f"宛名番号 {', '.join(not_moving)} は転出予定ではありません。")])
        plan = _Plan(ChangeType.MOVE_OUT_CONFIRMED, effective_date, notified_on, reason)
        for atena, rec in current.items():
            plan.before[atena] = rec
            plan.after[atena] = rec.replace(
                status=ResidentStatus.REMOVED, removal_reason=RemovalReason.MOVED_OUT, removed_on=effective_date
            )
        return plan

    return _run(ctx, build)


def register_address_change(
    ctx: TenantContext,
    *,
    atena_numbers: list[str],
    address: str,
    effective_date: date,
    filed_on: date | None,
    address_detail: str = "",
    new_household_head: str | None = None,
    remaining_head: str | None = None,
    reason: str = "",
) -> ChangeResult:
    """転居: a move within the municipality. Part of a household moving forms a new one."""
    if not address.strip():
        _refuse([Problem("address", "新しい住所を入力してください。")])

    def build() -> _Plan:
        current = _load(ctx, atena_numbers)
        plan = _Plan(ChangeType.ADDRESS_CHANGE, effective_date, filed_on, reason)
        target_household: str | None = None
        if new_household_head is not None:
            if new_household_head not in current:
                _refuse([Problem("new_household_head", "新しい世帯主は転居する人から選んでください。")])
            target_household = _number(ctx, "registry.household")
            plan.new_households.add(target_household)
        for atena, rec in current.items():
            plan.before[atena] = rec
            changes: dict[str, Any] = {
                "address": address,
                "address_detail": address_detail,
                "address_since": effective_date,
                "pre_move_address": rec.address,
            }
            if target_household is not None:
                is_head = atena == new_household_head
                changes.update(
                    household_number=target_household,
                    is_household_head=is_head,
                    relationship=Relationship.HEAD if is_head else rec.relationship,
                )
            plan.after[atena] = rec.replace(**changes)
        if remaining_head is not None:
            _with_new_head(plan, ctx, remaining_head, None)
        return plan

    return _run(ctx, build)


def change_household(
    ctx: TenantContext,
    *,
    change_type: str,
    relationships: Mapping[str, str],
    effective_date: date,
    filed_on: date | None,
    household_number: str | None = None,
    new_household: bool = False,
    reason: str = "",
) -> ChangeResult:
    """世帯変更: 世帯主変更, 世帯構成変更, 世帯分離 (``new_household``) or 世帯合併 (into ``household_number``).

    ``relationships`` gives the 続柄 of every person concerned after the change; ``head`` marks the 世帯主.
    """
    allowed = {
        ChangeType.HOUSEHOLD_HEAD_CHANGE,
        ChangeType.HOUSEHOLD_COMPOSITION,
        ChangeType.HOUSEHOLD_SPLIT,
        ChangeType.HOUSEHOLD_MERGE,
    }
    if change_type not in allowed:
        raise ValueError(change_type)
    bad = [a for a, r in relationships.items() if r not in Relationship.values]
    if bad:
        _refuse([Problem("relationships", f"宛名番号 {', '.join(bad)} の続柄が正しくありません。")])

    def build() -> _Plan:
        current = _load(ctx, relationships)
        plan = _Plan(change_type, effective_date, filed_on, reason)
        target = household_number
        if new_household:
            target = _number(ctx, "registry.household")
            plan.new_households.add(target)
        elif (
            target is not None
            and not Household.objects.filter(municipality_id=ctx.tenant_code, household_number=target).exists()
        ):
            raise Http404("世帯が見つかりません。")
        for atena, rec in current.items():
            rel = relationships[atena]
            plan.before[atena] = rec
            plan.after[atena] = rec.replace(
                household_number=target or rec.household_number,
                relationship=rel,
                is_household_head=rel == Relationship.HEAD,
                address=rec.address if target is None or new_household else _household_address(ctx, target, rec),
            )
        return plan

    return _run(ctx, build)


def _household_address(ctx: TenantContext, household_number: str, rec: ResidentRecord) -> str:
    head = (
        Person.objects.filter(
            municipality_id=ctx.tenant_code, household__household_number=household_number, is_household_head=True
        )
        .exclude(status=ResidentStatus.REMOVED)
        .first()
    )
    return head.address if head else rec.address


def register_name_change(
    ctx: TenantContext,
    *,
    atena_number: str,
    family_name: str,
    given_name: str,
    family_name_kana: str,
    given_name_kana: str,
    effective_date: date,
    filed_on: date | None,
    keep_former_family_name: bool = False,
    reason: str = "",
) -> ChangeResult:
    """氏名変更 (婚姻・離婚・家庭裁判所の許可など、戸籍の届出に基づく)."""
    _refuse(
        _check_kana(family_name_kana, "family_name_kana")
        + _check_kana(given_name_kana, "given_name_kana")
        + ([Problem("family_name", "氏を入力してください。")] if not family_name.strip() else [])
    )

    def build() -> _Plan:
        rec = _load(ctx, [atena_number])[atena_number]
        plan = _Plan(ChangeType.NAME_CHANGE, effective_date, filed_on, reason)
        plan.before[atena_number] = rec
        plan.after[atena_number] = rec.replace(
            family_name=family_name,
            given_name=given_name,
            family_name_kana=fold_kana(family_name_kana),
            given_name_kana=fold_kana(given_name_kana),
            former_family_name=rec.family_name if keep_former_family_name else rec.former_family_name,
        )
        return plan

    return _run(ctx, build)


# --- 職権 -------------------------------------------------------------------------------------

CORRECTABLE = frozenset(
    {
        "family_name",
        "given_name",
        "family_name_kana",
        "given_name_kana",
        "birth_date",
        "sex",
        "address",
        "address_detail",
        "previous_address",
        "registered_domicile",
        "domicile_head",
        "former_family_name",
        "alias",
        "voter_registered",
    }
)


def correct_record(
    ctx: TenantContext, *, atena_number: str, corrects_change: int, changes: Mapping[str, Any], reason: str
) -> ChangeResult:
    """職権修正: fix items recorded by an earlier 異動, from that 異動's date on.

    The correction is a new Change pointing at the corrected one; every later
    version gets a corrected copy, so ``as_of`` answers stay right for every date.
    """
    unknown = set(changes) - CORRECTABLE
    if unknown:
        _refuse([Problem("changes", f"職権修正できない項目です: {', '.join(sorted(unknown))}")])
    if not reason.strip():
        _refuse([Problem("reason", "職権修正の理由を入力してください。")])
    ctx.require(WRITE)
    with bound(ctx):
        original = Change.objects.filter(municipality_id=ctx.tenant_code, change_number=corrects_change).first()
        person = (
            Person.objects.select_for_update()
            .filter(municipality_id=ctx.tenant_code, atena_number=atena_number)
            .first()
        )
        if original is None or person is None:
            raise Http404("訂正する異動または住民が見つかりません。")
        versions = list(
            PersonVersion.objects.filter(person=person, effective_date__gte=original.effective_date).order_by(
                "effective_date", "id"
            )
        )
        if not versions:
            raise Http404("訂正する記録が見つかりません。")
        fixed = {
            k: (date.fromisoformat(v) if k == "birth_date" and isinstance(v, str) else v) for k, v in changes.items()
        }
        current = ResidentRecord.from_json(person.record)
        plan = _Plan(
            ChangeType.EX_OFFICIO_CORRECTION,
            original.effective_date,
            None,
            reason,
            corrects=original,
            details={"corrected_fields": sorted(changes)},
        )
        plan.before[atena_number] = current
        plan.after[atena_number] = current.replace(**fixed)
        result = _commit(ctx, plan)
        change = Change.objects.get(municipality_id=ctx.tenant_code, change_number=result.change_number)
        # Re-issue every version from the corrected date on, corrected, in order: for each date
        # the newest version wins, so as_of sees the fix on every date and nothing else changes.
        for version in versions:
            rec = ResidentRecord.from_json(version.record).replace(**fixed)
            PersonVersion.objects.create(
                municipality_id=ctx.tenant_code,
                person=person,
                change=change,
                effective_date=version.effective_date,
                record=rec.to_json(),
            )
        return result


def remove_ex_officio(
    ctx: TenantContext, *, atena_number: str, effective_date: date, reason: str, new_head: str | None = None
) -> ChangeResult:
    """職権消除 (e.g. 実態調査で居住の事実がない)."""
    if not reason.strip():
        _refuse([Problem("reason", "職権消除の理由を入力してください。")])

    def build() -> _Plan:
        rec = _load(ctx, [atena_number])[atena_number]
        plan = _Plan(ChangeType.EX_OFFICIO_REMOVAL, effective_date, None, reason)
        plan.before[atena_number] = rec
        plan.after[atena_number] = rec.replace(
            status=ResidentStatus.REMOVED,
            removal_reason=RemovalReason.EX_OFFICIO,
            removed_on=effective_date,
            is_household_head=False,
        )
        _with_new_head(plan, ctx, new_head, None)
        return plan

    return _run(ctx, build)


def restore_ex_officio(
    ctx: TenantContext, *, atena_number: str, effective_date: date, reason: str, relationship: str | None = None
) -> ChangeResult:
    """職権回復: a 除票 made in error becomes a 住民票 again (the only 異動 allowed on a 除票)."""
    if not reason.strip():
        _refuse([Problem("reason", "職権回復の理由を入力してください。")])

    def build() -> _Plan:
        rec = _load(ctx, [atena_number])[atena_number]
        rel = relationship or rec.relationship
        plan = _Plan(ChangeType.EX_OFFICIO_RESTORATION, effective_date, None, reason)
        plan.before[atena_number] = rec
        plan.after[atena_number] = rec.replace(
            status=ResidentStatus.RESIDENT,
            removal_reason="",
            removed_on=None,
            moving_out_to="",
            relationship=rel,
            is_household_head=rel == Relationship.HEAD,
        )
        return plan

    return _run(ctx, build)


def set_individual_number(ctx: TenantContext, *, atena_number: str, individual_number: str) -> None:
    """Record (or replace) a 個人番号; only its ciphertext is stored."""
    ctx.require(WRITE)
    try:
        validate_individual_number(individual_number)
    except CheckDigitError as exc:
        raise ValidationError({"individual_number": exc.message}) from None
    with bound(ctx):
        person = (
            Person.objects.select_for_update()
            .filter(municipality_id=ctx.tenant_code, atena_number=atena_number)
            .first()
        )
        if person is None:
            raise Http404("住民が見つかりません。")
        person.individual_number_ciphertext = crypto.encrypt(ctx, individual_number, INDIVIDUAL_NUMBER)
        person.save(update_fields=["individual_number_ciphertext"])
        audit(
            ctx,
            "registry.person.individual_number_set",
            subject_type="person",
            subject_id=atena_number,
            fields=["individual_number"],
        )


# --- 支援措置 ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Adversary:
    """The 相手方 named in the application (as far as the municipality knows them)."""

    name: str
    birth_date: date | None = None


def set_protection(
    ctx: TenantContext,
    *,
    atena_number: str,
    starts_on: date,
    adversary: Adversary,
    co_residents: Iterable[str] = (),
    reason: str = "",
) -> list[int]:
    """Put a person, and the co-resident family named, under 支援措置 for one year."""
    from .models import ProtectionOrder
    from .rules.protection import expiry_for

    ctx.require(RegistryPermission.PROTECTION_MANAGE)
    if not adversary.name.strip():
        _refuse([Problem("adversary", "相手方の氏名を入力してください。")])
    with bound(ctx):
        people = {
            p.atena_number: p
            for p in Person.objects.filter(
                municipality_id=ctx.tenant_code, atena_number__in=[atena_number, *co_residents]
            )
        }
        if atena_number not in people:
            raise Http404("住民が見つかりません。")
        applicant = people[atena_number]
        strangers = [a for a, p in people.items() if p.household_id != applicant.household_id]
        if strangers or len(people) != len({atena_number, *co_residents}):
            _refuse([Problem("co_residents", "併せて措置する人は、申出者と同じ世帯の住民から選んでください。")])
        ids = []
        for atena, person in people.items():
            order = ProtectionOrder.objects.create(
                municipality_id=ctx.tenant_code,
                person=person,
                applicant=applicant,
                starts_on=starts_on,
                expires_on=expiry_for(starts_on),
                adversary_name_key=fold_name(adversary.name),
                adversary_birth_date=adversary.birth_date,
                adversary_display=adversary.name,
                reason=reason,
            )
            ids.append(order.pk)
            audit(ctx, "registry.protection.set", subject_type="person", subject_id=atena, fields=["protection_order"])
        return ids


def extend_protection(ctx: TenantContext, *, order_id: int, today: date) -> date:
    """延長: from one month before the end, for another year."""
    from .models import ProtectionOrder
    from .rules.protection import PERIOD_DAYS, can_extend

    ctx.require(RegistryPermission.PROTECTION_MANAGE)
    with bound(ctx):
        order = (
            ProtectionOrder.objects.select_for_update()
            .filter(municipality_id=ctx.tenant_code, pk=order_id, ended_on__isnull=True)
            .first()
        )
        if order is None:
            raise Http404("支援措置が見つかりません。")
        if not can_extend(order.expires_on, today):
            _refuse([Problem("expires_on", "延長の申出は終了予定日の1か月前から終了予定日までに受け付けます。")])
        from datetime import timedelta

        order.expires_on = order.expires_on + timedelta(days=PERIOD_DAYS)
        order.save(update_fields=["expires_on"])
        audit(
            ctx,
            "registry.protection.extended",
            subject_type="person",
            subject_id=order.person.atena_number,
            fields=["expires_on"],
        )
        return order.expires_on


def end_protection(ctx: TenantContext, *, order_id: int, ended_on: date, reason: str) -> None:
    from .models import ProtectionOrder

    ctx.require(RegistryPermission.PROTECTION_MANAGE)
    with bound(ctx):
        order = (
            ProtectionOrder.objects.select_for_update()
            .filter(municipality_id=ctx.tenant_code, pk=order_id, ended_on__isnull=True)
            .first()
        )
        if order is None:
            raise Http404("支援措置が見つかりません。")
        order.ended_on = ended_on
        order.reason = (order.reason + "\n終了: " + reason).strip()
        order.save(update_fields=["ended_on", "reason"])
        audit(
            ctx,
            "registry.protection.ended",
            subject_type="person",
            subject_id=order.person.atena_number,
            fields=["ended_on"],
        )
