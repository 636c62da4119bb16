"""Reads of the resident registry: tenant first, permission checked, every read of personal data audited."""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass
from datetime import date
from typing import Any

from django.db.models.fields.json import KT
from django.http import Http404

from lgcloud.audit.actions import record as audit
from lgcloud.core import crypto
from lgcloud.core.tenancy import TenantContext, bound

from .codes import ResidentStatus
from .models import Change, Person, PersonVersion, ProtectionOrder
from .permissions import RegistryPermission
from .rules.record import ResidentRecord, fold_address, fold_kana, fold_name

READ = RegistryPermission.RESIDENT_READ
PAGE_SIZE = 50
INDIVIDUAL_NUMBER = b"individual_number"


@dataclass(frozen=True)
class PersonSummary:
    atena_number: str
    full_name: str
    full_name_kana: str
    birth_date: date
    sex: str
    address: str
    household_number: str
    relationship: str
    status: str
    protected: bool


@dataclass(frozen=True)
class SearchQuery:
    name: str = ""
    kana: str = ""
    birth_date: date | None = None
    address: str = ""
    atena_number: str = ""
    household_number: str = ""
    include_removed: bool = False

    def is_empty(self) -> bool:
        return not any([self.name, self.kana, self.birth_date, self.address, self.atena_number, self.household_number])


@dataclass(frozen=True)
class SearchPage:
    results: list[PersonSummary]
    page: int
    has_next: bool


@dataclass(frozen=True)
class HistoryEntry:
    change_number: int
    change_type: str
    change_label: str
    effective_date: date
    filed_on: date | None
    processed_at: object
    actor_name: str
    reason: str
    late_filing: bool
    corrects: int | None
    record: ResidentRecord


def _protected_ids(ctx: TenantContext, person_ids: list[int], on: date) -> set[int]:
    return set(
        ProtectionOrder.objects.filter(
            municipality_id=ctx.tenant_code,
            person_id__in=person_ids,
            starts_on__lte=on,
            expires_on__gte=on,
            ended_on__isnull=True,
        ).values_list("person_id", flat=True)
    )


def _summaries(ctx: TenantContext, people: list[Person], today: date) -> list[PersonSummary]:
    protected = _protected_ids(ctx, [p.pk for p in people], today)
    out = []
    for p in people:
        rec = ResidentRecord.from_json(p.record)
        out.append(
            PersonSummary(
                p.atena_number,
                rec.full_name,
                rec.full_name_kana,
                rec.birth_date,
                rec.sex,
                rec.address + (f" {rec.address_detail}" if rec.address_detail else ""),
                rec.household_number,
                rec.relationship,
                p.status,
                p.pk in protected,
            )
        )
    return out


def search_persons(ctx: TenantContext, query: SearchQuery, page: int = 1, *, today: date) -> SearchPage:
    """Residents matching every given criterion; names and readings match by prefix, variants folded."""
    ctx.require(READ)
    page = max(page, 1)
    with bound(ctx):
        qs = Person.objects.filter(municipality_id=ctx.tenant_code).select_related("household")
        if query.atena_number:
            qs = qs.filter(atena_number=query.atena_number.strip())
        if query.household_number:
            qs = qs.filter(household__household_number=query.household_number.strip())
        for column, value, fold in (
            ("name_key", query.name, fold_name),
            ("kana_key", query.kana, fold_kana),
            ("address_key", query.address, fold_address),
        ):
            key = fold(value) if value else ""
            if key:
                qs = qs.filter(**_prefix(column, key))
        if query.birth_date:
            qs = qs.filter(birth_date=query.birth_date)
        if not query.include_removed:
            qs = qs.exclude(status=ResidentStatus.REMOVED)
        offset = (page - 1) * PAGE_SIZE
        rows = list(qs.order_by("kana_key", "atena_number")[offset : offset + PAGE_SIZE + 1])
        audit(
            ctx,
            "registry.person.searched",
            subject_type="person_search",
            subject_id=len(rows[:PAGE_SIZE]),
            fields=[k for k, v in vars(query).items() if v],
        )
        return SearchPage(_summaries(ctx, rows[:PAGE_SIZE], today), page, len(rows) > PAGE_SIZE)


def _prefix(column: str, key: str) -> dict[str, str]:
    """A prefix match stated as a range, which an index can answer under row-level security.

    PostgreSQL only uses an index for LEAKPROOF operators when RLS is on, and LIKE is
    not; >= and < are. The keys are in code point order (COLLATE "C", migration 0004;
    SQLite's BINARY), where the strings starting with ``key`` are exactly those from
    ``key`` up to the key with its last character incremented. LIKE stays as a recheck.
    """
    end = key[:-1] + chr(ord(key[-1]) + 1)
    return {f"{column}__gte": key, f"{column}__lt": end, f"{column}__startswith": key}


def _person(ctx: TenantContext, atena_number: str) -> Person:
    person = Person.objects.filter(municipality_id=ctx.tenant_code, atena_number=atena_number).first()
    if person is None:
        raise Http404("住民が見つかりません。")
    return person


def person_exists(ctx: TenantContext, atena_number: str) -> bool:
    """Whether the municipality has (or had) this person; not a read of personal data, so not audited."""
    with bound(ctx):
        return Person.objects.filter(municipality_id=ctx.tenant_code, atena_number=atena_number).exists()


def get_record(ctx: TenantContext, atena_number: str) -> ResidentRecord:
    """The current 住民票 (or 除票) of one person."""
    ctx.require(READ)
    with bound(ctx):
        person = _person(ctx, atena_number)
        audit(ctx, "registry.person.viewed", subject_type="person", subject_id=atena_number, fields=["record"])
        return ResidentRecord.from_json(person.record)


def get_record_items(
    ctx: TenantContext, atena_number: str, items: Collection[str], *, action: str = "registry.person.items_read"
) -> dict[str, Any]:
    """Only the named items of one person's 住民票 (linkage's purpose-bound reads).

    The audit record names exactly the items returned, so a resident's access history
    shows what each reader saw. Unknown item names are ignored.
    """
    ctx.require(READ)
    with bound(ctx):
        person = _person(ctx, atena_number)
        record = person.record
        chosen = sorted(name for name in items if name in record)
        audit(ctx, action, subject_type="person", subject_id=atena_number, fields=chosen)
        return {name: record[name] for name in chosen}


def get_record_as_of(ctx: TenantContext, atena_number: str, on: date) -> ResidentRecord | None:
    """The 住民票 as it stood on ``on`` (None if the person was not yet registered then)."""
    ctx.require(READ)
    with bound(ctx):
        person = _person(ctx, atena_number)
        version = (
            PersonVersion.objects.filter(person=person, effective_date__lte=on)
            .order_by("-effective_date", "-id")
            .first()
        )
        audit(
            ctx,
            "registry.person.viewed_as_of",
            subject_type="person",
            subject_id=atena_number,
            fields=["record", f"as_of:{on.isoformat()}"],
        )
        return ResidentRecord.from_json(version.record) if version else None


def get_history(ctx: TenantContext, atena_number: str) -> list[HistoryEntry]:
    """Every 異動 of one person, in the order processed, with the record each produced."""
    ctx.require(READ)
    with bound(ctx):
        person = _person(ctx, atena_number)
        versions = list(
            PersonVersion.objects.filter(person=person).select_related("change", "change__corrects").order_by("id")
        )
        audit(ctx, "registry.person.history_viewed", subject_type="person", subject_id=atena_number, fields=["history"])
        seen: set[int] = set()
        entries = []
        for v in versions:
            c = v.change
            if c.pk in seen:  # a correction re-issues several versions; show the 異動 once
                continue
            seen.add(c.pk)
            entries.append(
                HistoryEntry(
                    c.change_number,
                    c.change_type,
                    c.get_change_type_display(),
                    c.effective_date,
                    c.filed_on,
                    c.processed_at,
                    c.actor_name,
                    c.reason,
                    c.late_filing,
                    c.corrects.change_number if c.corrects else None,
                    ResidentRecord.from_json(v.record),
                )
            )
        return entries


def get_household(ctx: TenantContext, household_number: str, *, today: date) -> list[PersonSummary]:
    """The current members of a household, the 世帯主 first."""
    ctx.require(READ)
    with bound(ctx):
        members = list(
            Person.objects.filter(municipality_id=ctx.tenant_code, household__household_number=household_number)
            .exclude(status=ResidentStatus.REMOVED)
            .order_by("-is_household_head", "birth_date")
        )
        if not members:
            raise Http404("世帯が見つかりません。")
        audit(
            ctx, "registry.household.viewed", subject_type="household", subject_id=household_number, fields=["members"]
        )
        return _summaries(ctx, members, today)


def late_filings(ctx: TenantContext, since: date, until: date) -> list[Change]:
    """届出期間（14日）を過ぎた届出の一覧 (住基法22〜25条, 第52条)."""
    ctx.require(READ)
    with bound(ctx):
        rows = list(
            Change.objects.filter(
                municipality_id=ctx.tenant_code, late_filing=True, effective_date__gte=since, effective_date__lte=until
            ).order_by("effective_date", "change_number")
        )
        audit(ctx, "registry.change.late_listed", subject_type="change_list", subject_id=len(rows))
        return rows


def inspection_list(ctx: TenantContext, address_prefix: str, *, today: date) -> list[PersonSummary]:
    """住民基本台帳の一部の写しの閲覧 (法11条): 氏名・生年月日・性別・住所, never a protected person."""
    ctx.require(READ)
    with bound(ctx):
        people = list(
            Person.objects.filter(municipality_id=ctx.tenant_code, address_key__startswith=fold_address(address_prefix))
            .exclude(status=ResidentStatus.REMOVED)
            .order_by("address_key", "kana_key")
        )
        protected = _protected_ids(ctx, [p.pk for p in people], today)
        visible = [p for p in people if p.pk not in protected]
        audit(
            ctx,
            "registry.inspection_list.read",
            subject_type="inspection_list",
            subject_id=len(visible),
            fields=["name", "birth_date", "sex", "address"],
        )
        return _summaries(ctx, visible, today)


def reveal_individual_number(ctx: TenantContext, atena_number: str, purpose: str) -> str | None:
    """Decrypt a 個人番号 for a stated lawful purpose (番号法 第9条); audited with that purpose."""
    ctx.require(RegistryPermission.INDIVIDUAL_NUMBER_READ)
    if not purpose.strip():
        raise PermissionError("個人番号を表示する事務（利用目的）を指定してください。")
    with bound(ctx):
        person = _person(ctx, atena_number)
        audit(
            ctx.with_purpose(purpose[:100]),
            "registry.person.individual_number_revealed",
            subject_type="person",
            subject_id=atena_number,
            fields=["individual_number"],
        )
        if person.individual_number_ciphertext is None:
            return None
        return crypto.decrypt(ctx, bytes(person.individual_number_ciphertext), INDIVIDUAL_NUMBER)


def has_individual_number(ctx: TenantContext, atena_number: str) -> bool:
    ctx.require(READ)
    with bound(ctx):
        return _person(ctx, atena_number).individual_number_ciphertext is not None


def active_protection(ctx: TenantContext, atena_number: str, on: date) -> ProtectionOrder | None:
    """The 支援措置 in force for a person on ``on`` (None if none)."""
    with bound(ctx):
        return (
            ProtectionOrder.objects.filter(
                municipality_id=ctx.tenant_code,
                person__atena_number=atena_number,
                starts_on__lte=on,
                expires_on__gte=on,
                ended_on__isnull=True,
            )
            .order_by("-expires_on")
            .first()
        )


def list_protections(ctx: TenantContext, *, today: date, include_ended: bool = False) -> list[ProtectionOrder]:
    ctx.require(RegistryPermission.PROTECTION_MANAGE)
    with bound(ctx):
        qs = ProtectionOrder.objects.filter(municipality_id=ctx.tenant_code).select_related("person")
        if not include_ended:
            qs = qs.filter(ended_on__isnull=True, expires_on__gte=today)
        rows = list(qs.order_by("expires_on"))
        audit(ctx, "registry.protection.listed", subject_type="protection_list", subject_id=len(rows))
        return rows


@dataclass(frozen=True)
class ResidentOn:
    """One person as registered on a given date (the items a batch needs, nothing more)."""

    atena_number: str
    household_number: str
    is_household_head: bool
    relationship: str
    birth_date: date
    full_name: str
    full_name_kana: str
    address: str


@dataclass(frozen=True)
class ResidentPage:
    residents: list[ResidentOn]
    next_after: str | None  # pass as ``after`` for the next page; None when every person was seen


_RESIDENT_ITEMS = (
    "status",
    "household_number",
    "is_household_head",
    "relationship",
    "birth_date",
    "family_name",
    "given_name",
    "family_name_kana",
    "given_name_kana",
    "address",
    "address_detail",
)


def residents_on(ctx: TenantContext, on: date, *, after: str = "", limit: int = 5000) -> ResidentPage:
    """The persons registered as residents on ``on``, by 宛名番号: one page of ``limit`` persons after ``after``.

    For batches (個人住民税 on the 賦課期日, a benefit's reference date): each person's newest
    version with 異動日 ≤ ``on``, kept if it was a resident then. Audited once per page.
    """
    ctx.require(READ)
    with bound(ctx):
        people = list(
            Person.objects.filter(municipality_id=ctx.tenant_code, atena_number__gt=after)
            .order_by("atena_number")
            .values_list("id", "atena_number")[:limit]
        )
        # Only the items a batch needs, extracted by the database (json_extract / ->>): decoding
        # every whole record in Python cost about three times as much CPU at 1M residents.
        latest: dict[int, tuple[Any, ...]] = {}
        for row in (
            PersonVersion.objects.filter(
                municipality_id=ctx.tenant_code, person_id__in=[p for p, _ in people], effective_date__lte=on
            )
            .order_by("person_id", "effective_date", "id")
            .values_list("person_id", *(KT(f"record__{item}") for item in _RESIDENT_ITEMS))
        ):
            latest[row[0]] = row[1:]
        out = []
        for person_id, atena in people:
            found = latest.get(person_id)
            if found is None:
                continue
            item = dict(zip(_RESIDENT_ITEMS, found, strict=True))
            if item["status"] == ResidentStatus.REMOVED:
                continue
            out.append(
                ResidentOn(
                    atena,
                    str(item["household_number"]),
                    item["is_household_head"] in (True, 1, "1", "true"),
                    str(item["relationship"]),
                    date.fromisoformat(str(item["birth_date"])),
                    f"{item['family_name']} {item['given_name'] or ''}".strip(),
                    f"{item['family_name_kana']} {item['given_name_kana'] or ''}".strip(),
                    f"{item['address']}{' ' + str(item['address_detail']) if item['address_detail'] else ''}",
                )
            )
        if people:
            audit(
                ctx,
                "registry.residents.listed_as_of",
                subject_type="resident_list",
                subject_id=f"{people[0][1]}-{people[-1][1]}",
                fields=["atena_number", "household", "birth_date", "name", "address", f"as_of:{on.isoformat()}"],
            )
        return ResidentPage(out, people[-1][1] if len(people) == limit else None)


@dataclass(frozen=True)
class MemberPage:
    members: list[tuple[str, str, bool]]  # (世帯番号, 宛名番号, 世帯主か)
    next_after: str | None


def household_members_on(ctx: TenantContext, on: date, *, after: str = "", limit: int = 20000) -> MemberPage:
    """Who belonged to which household on ``on`` (residents only), by 宛名番号: the lightest batch read.

    A flat benefit needs only the 世帯 and its 世帯主, so only those items are read (no names,
    no addresses). Audited once per page.
    """
    ctx.require(READ)
    with bound(ctx):
        people = list(
            Person.objects.filter(municipality_id=ctx.tenant_code, atena_number__gt=after)
            .order_by("atena_number")
            .values_list("id", "atena_number")[:limit]
        )
        latest: dict[int, tuple[Any, Any, Any]] = {}
        for person_id, status, household, head in (
            PersonVersion.objects.filter(
                municipality_id=ctx.tenant_code, person_id__in=[p for p, _ in people], effective_date__lte=on
            )
            .order_by("person_id", "effective_date", "id")
            .values_list(
                "person_id", KT("record__status"), KT("record__household_number"), KT("record__is_household_head")
            )
        ):
            latest[person_id] = (status, household, head)
        members = []
        for person_id, atena in people:
            found = latest.get(person_id)
            if found is not None and found[0] != ResidentStatus.REMOVED:
                members.append((str(found[1]), atena, found[2] in (True, 1, "1", "true")))
        if people:
            audit(
                ctx,
                "registry.households.listed_as_of",
                subject_type="resident_list",
                subject_id=f"{people[0][1]}-{people[-1][1]}",
                fields=["atena_number", "household", f"as_of:{on.isoformat()}"],
            )
        return MemberPage(members, people[-1][1] if len(people) == limit else None)
