"""住民記録 pages: search, the 住民票, households, one form per 異動, 支援措置, certificates.

Thin: every read goes through registry.queries, every write through registry.actions
(or registry.certificates); each answers in Japanese beside the field and writes
nothing when it refuses. Every page works without JavaScript.
"""

from __future__ import annotations

import secrets
from collections.abc import Iterable, Mapping, Sequence
from datetime import date, timedelta
from typing import Any

from django import forms
from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.views.decorators.http import require_http_methods

from lgcloud.core.pages import apply_errors as shared_apply_errors
from lgcloud.core.pages import jdate, staff_page
from lgcloud.core.tenancy import TenantContext

from . import actions, certificates, queries
from .codes import (
    ChangeType,
    ForeignResidentCategory,
    Relationship,
    RemovalReason,
    ResidentStatus,
    Sex,
)
from .forms import (
    CERTIFICATE_CHANNELS,
    CERTIFICATE_ITEMS,
    CERTIFICATE_KINDS,
    REQUESTER_RELATIONS,
    AddressChangeForm,
    AsOfForm,
    BirthForm,
    CertificateForm,
    ConfirmMoveOutForm,
    CorrectionForm,
    DeathForm,
    HouseholdChangeForm,
    LateFilingsForm,
    MoveInForm,
    MoveOutForm,
    NameChangeForm,
    PersonFormSet,
    ProtectionEndForm,
    ProtectionListForm,
    ProtectionSetForm,
    RemovalForm,
    RestorationForm,
    RevealForm,
    SearchForm,
)
from .permissions import RegistryPermission
from .rules.record import ResidentRecord

READ = RegistryPermission.RESIDENT_READ
WRITE = RegistryPermission.RESIDENT_WRITE
PROTECTION = RegistryPermission.PROTECTION_MANAGE
ISSUE = RegistryPermission.CERTIFICATE_ISSUE


def _label(choices: Iterable[tuple[str, str]], value: str) -> str:
    return dict(choices).get(value, value)


def _member_row(m: queries.PersonSummary) -> dict[str, Any]:
    return {
        "atena_number": m.atena_number,
        "full_name": m.full_name,
        "full_name_kana": m.full_name_kana,
        "birth_date": jdate(m.birth_date),
        "sex": _label(Sex.choices, m.sex),
        "address": m.address,
        "household_number": m.household_number,
        "relationship": _label(Relationship.choices, m.relationship),
        "is_head": m.relationship == Relationship.HEAD,
        "status": m.status,
        "status_label": _label(ResidentStatus.choices, m.status),
        "protected": m.protected,
    }


def _record_items(rec: ResidentRecord, head_name: str) -> list[tuple[str, str, str]]:
    """(label, value, css class) of the 住民票 items (住基法 第7条), in the order a 住民票 prints them."""
    blank = "（記載なし）"
    items: list[tuple[str, str, str]] = [
        ("氏名", rec.full_name, "name"),
        ("氏名（カナ）", rec.full_name_kana, ""),
    ]
    if rec.former_family_name:
        items.append(("旧氏", rec.former_family_name, "name"))
    if rec.alias:
        items.append(("通称", rec.alias, "name"))
    items += [
        ("生年月日", jdate(rec.birth_date), ""),
        ("性別", _label(Sex.choices, rec.sex), ""),
        ("世帯主", head_name or blank, "name"),
        ("続柄", _label(Relationship.choices, rec.relationship), ""),
        ("住所", rec.address, ""),
        ("方書", rec.address_detail or blank, ""),
        ("住所を定めた日", jdate(rec.address_since), ""),
        ("住民となった日", jdate(rec.resident_since), ""),
        ("届出日", jdate(rec.filed_on) or blank, ""),
        ("従前の住所", rec.previous_address or blank, ""),
    ]
    if rec.pre_move_address:
        items.append(("転居前の住所", rec.pre_move_address, ""))
    if not rec.is_foreign:
        items += [
            ("本籍", rec.registered_domicile or blank, ""),
            ("筆頭者", rec.domicile_head or blank, "name"),
        ]
    items += [
        ("住民票コード", rec.resident_code or blank, ""),
        ("選挙人名簿", "登録あり" if rec.voter_registered else "登録なし", ""),
    ]
    if rec.is_foreign:
        f = rec.foreign
        items += [
            ("国籍・地域", f.nationality or blank, ""),
            ("在留資格", f.residence_status or blank, ""),
            ("在留期間", f.period_of_stay or blank, ""),
            ("在留期間の満了の日", jdate(f.stay_expires_on) or blank, ""),
            ("在留カード等の番号", f.residence_card_number or blank, ""),
            ("第30条の45の区分", _label(ForeignResidentCategory.choices, f.category) or blank, ""),
        ]
    q = rec.qualifications
    held = [
        label
        for label, on in (
            ("国民健康保険", q.national_health_insurance),
            ("後期高齢者医療", q.late_elderly_medical),
            ("介護保険", q.long_term_care),
            ("児童手当", q.child_allowance),
        )
        if on
    ]
    if q.national_pension:
        held.append(f"国民年金（{q.national_pension}）")
    items.append(("資格", "、".join(held) or blank, ""))
    items.append(("状態", _label(ResidentStatus.choices, rec.status), ""))
    if rec.moving_out_to:
        items.append(("転出先", rec.moving_out_to, ""))
    if rec.status == ResidentStatus.REMOVED:
        items += [
            ("消除の事由", _label(RemovalReason.choices, rec.removal_reason) or blank, ""),
            ("消除の日", jdate(rec.removed_on) or blank, ""),
        ]
    # 「（記載なし）」 is not a name: only a name gets the name face.
    return [(label, value, "" if value == blank else cls) for label, value, cls in items]


def _today() -> date:
    return timezone.localdate()


def _summary(forms_: Iterable[forms.Form], extra: Iterable[str] = ()) -> list[tuple[str, str]]:
    """The error summary: (link to the field or "", message) for every error on the page."""
    out = [("", str(e)) for e in extra]
    for f in forms_:
        if not f.errors:
            continue
        prefix = getattr(f, "summary_prefix", "")
        out += [("", f"{prefix}{e}") for e in f.non_field_errors()]
        for name in f.fields:
            bf = f[name]
            # A group of checkboxes has no element with the field's own id: link its first box.
            anchor = f"#{bf.auto_id}_0" if bf.field.widget.use_fieldset else f"#{bf.auto_id}"
            out += [(anchor, f"{prefix}{bf.label}: {e}") for e in bf.errors]
    return out


def _render(
    request: HttpRequest,
    template: str,
    context: dict[str, Any],
    forms_: Iterable[forms.Form] = (),
    extra: Iterable[str] = (),
) -> HttpResponse:
    """Render a registry page; 400 with the error summary when any form (or ``extra``) has errors."""
    errors = _summary(forms_, extra)
    return render(request, f"registry/{template}", {**context, "errors": errors}, status=400 if errors else 200)


# --- errors from the actions ---------------------------------------------------------------------

# The actions name some problems by a key no form has; these say which field to put them beside.
_ALIASES: dict[str, str] = {
    "household_head": "new_head",
    "atena_numbers": "members",
}


def apply_errors(
    form: forms.Form,
    exc: ValidationError,
    *,
    aliases: Mapping[str, str] | None = None,
    persons: Sequence[forms.Form] = (),
) -> None:
    """The page's form errors, with the names the registry's actions use for some fields."""
    shared_apply_errors(form, exc, aliases={**_ALIASES, **(aliases or {})}, persons=persons)


def _done(request: HttpRequest, result: actions.ChangeResult, what: str, atena: str | None = None) -> HttpResponse:
    messages.success(request, f"{what}を処理しました（異動番号 {result.change_number}）。")
    for warning in result.warnings:
        messages.warning(request, warning)
    return redirect("registry:person", atena=atena or result.atena_numbers[0])


# --- 住民の取得 -----------------------------------------------------------------------------------


class _Person:
    """One person as a form page needs them: the current record and the household."""

    def __init__(self, ctx: TenantContext, atena: str) -> None:
        self.record = queries.get_record(ctx.with_purpose("registry.view"), atena)  # 404: missing or not ours
        self.atena = atena
        try:
            members = queries.get_household(
                ctx.with_purpose("registry.view"), self.record.household_number, today=_today()
            )
        except Http404:  # every member is a 除票
            members = []
        self.members = members
        self.others = [m for m in members if m.atena_number != atena and m.status == ResidentStatus.RESIDENT]
        self.is_head = self.record.is_household_head and self.record.status != ResidentStatus.REMOVED

    @property
    def head_name(self) -> str:
        return next((m.full_name for m in self.members if m.relationship == Relationship.HEAD), "")

    def context(self) -> dict[str, Any]:
        return {
            "atena": self.atena,
            "record": self.record,
            "members": [_member_row(m) for m in self.members],
            "birth_date": jdate(self.record.birth_date),
        }


def _change_page(request: HttpRequest, template: str, person: _Person, form: forms.Form, **extra: Any) -> HttpResponse:
    return _render(request, template, {**person.context(), "form": form, **extra}, [form])


# --- 住民検索 ------------------------------------------------------------------------------------


@staff_page(READ)
def search(request: HttpRequest, ctx: TenantContext) -> HttpResponse:
    form = SearchForm(request.GET or None)
    page = None
    rows: list[dict[str, Any]] = []
    empty_query = True
    if request.GET and form.is_valid():
        data = form.cleaned_data
        query = queries.SearchQuery(
            name=data["name"],
            kana=data["kana"],
            birth_date=data["birth_date"],
            address=data["address"],
            atena_number=data["atena_number"],
            household_number=data["household_number"],
            include_removed=data["include_removed"],
        )
        empty_query = query.is_empty()
        if not empty_query:  # an empty search lists nobody: a clerk looks a person up, never browses
            try:
                number = max(int(request.GET.get("page", "1")), 1)
            except ValueError:
                number = 1
            page = queries.search_persons(ctx.with_purpose("registry.search"), query, number, today=_today())
            rows = [_member_row(r) for r in page.results]
    params = request.GET.copy()
    params.pop("page", None)
    return _render(
        request,
        "search.html",
        {
            "form": form,
            "page": page,
            "rows": rows,
            "searched": bool(request.GET) and not form.errors,
            "empty_query": empty_query,
            "query": params.urlencode(),
        },
        [form],
    )


# --- 個人・世帯 -----------------------------------------------------------------------------------


def _history_rows(entries: Sequence[queries.HistoryEntry]) -> list[dict[str, Any]]:
    rows = []
    for e in reversed(entries):  # newest first
        rows.append(
            {
                "change_number": e.change_number,
                "label": e.change_label,
                "effective_date": jdate(e.effective_date),
                "filed_on": jdate(e.filed_on),
                "processed_at": timezone.localtime(e.processed_at).strftime("%Y-%m-%d %H:%M")  # type: ignore[arg-type]
                if e.processed_at
                else "",
                "actor_name": e.actor_name,
                "reason": e.reason,
                "late_filing": e.late_filing,
                "corrects": e.corrects,
                "is_filing": e.filed_on is not None,
            }
        )
    return rows


@staff_page(READ)
def person(request: HttpRequest, ctx: TenantContext, atena: str) -> HttpResponse:
    p = _Person(ctx, atena)
    history = queries.get_history(ctx.with_purpose("registry.view"), atena)
    protection = queries.active_protection(ctx, atena, _today())
    return render(
        request,
        "registry/person.html",
        {
            **p.context(),
            "items": _record_items(p.record, p.head_name),
            "has_number": queries.has_individual_number(ctx, atena),
            "protection": protection,
            "protection_expires": jdate(protection.expires_on) if protection else "",
            "history": _history_rows(history),
            "reveal_form": RevealForm(),
            "as_of_form": AsOfForm(),
            "status": p.record.status,
            "status_label": _label(ResidentStatus.choices, p.record.status),
        },
    )


@staff_page(READ)
def as_of(request: HttpRequest, ctx: TenantContext, atena: str) -> HttpResponse:
    p = _Person(ctx, atena)
    form = AsOfForm(request.GET or None)
    record = None
    on = None
    if request.GET and form.is_valid():
        on = form.cleaned_data["as_of"]
        record = queries.get_record_as_of(ctx.with_purpose("registry.view"), atena, on)
    return _render(
        request,
        "as_of.html",
        {
            **p.context(),
            "form": form,
            "on": jdate(on),
            "searched": on is not None,
            "items": _record_items(record, "") if record else [],
        },
        [form],
    )


@staff_page(RegistryPermission.INDIVIDUAL_NUMBER_READ)
@require_http_methods(["GET", "POST"])
def reveal_number(request: HttpRequest, ctx: TenantContext, atena: str) -> HttpResponse:
    """個人番号 is shown once, on the answer to a POST that names the 事務 (番号法 第9条)."""
    p = _Person(ctx, atena)
    form = RevealForm(request.POST or None)
    number = None
    revealed = False
    if request.method == "POST" and form.is_valid():
        try:
            number = queries.reveal_individual_number(ctx, atena, form.cleaned_data["purpose"])
        except PermissionError as exc:
            form.add_error("purpose", str(exc))
        else:
            revealed = True
    response = _render(
        request,
        "individual_number.html",
        {**p.context(), "form": form, "number": number, "revealed": revealed},
        [form],
    )
    response["Cache-Control"] = "no-store"  # the number must not stay in any cache
    return response


@staff_page(READ)
def household(request: HttpRequest, ctx: TenantContext, number: str) -> HttpResponse:
    members = queries.get_household(ctx.with_purpose("registry.view"), number, today=_today())
    return render(request, "registry/household.html", {"number": number, "members": [_member_row(m) for m in members]})


# --- 転入・職権記載 -------------------------------------------------------------------------------


def _new_person(data: Mapping[str, Any]) -> actions.NewPerson:
    return actions.NewPerson(
        family_name=data["family_name"],
        given_name=data["given_name"],
        family_name_kana=data["family_name_kana"],
        given_name_kana=data["given_name_kana"],
        birth_date=data["birth_date"],
        sex=data["sex"],
        relationship=data["relationship"],
        registered_domicile=data.get("registered_domicile", ""),
        domicile_head=data.get("domicile_head", ""),
        individual_number=data.get("individual_number") or None,
    )


def _move_in(request: HttpRequest, ctx: TenantContext, *, ex_officio: bool) -> HttpResponse:
    data = request.POST if request.method == "POST" else None
    form = MoveInForm(data, ex_officio=ex_officio)
    persons = PersonFormSet(data, prefix="persons")
    for i, person_form in enumerate(persons.forms):
        person_form.summary_prefix = f"{i + 1}人目 "  # type: ignore[attr-defined]
    if request.method == "POST":
        valid = form.is_valid()
        valid = persons.is_valid() and valid
        if valid:
            entered = [f for f in persons.forms if f.has_changed()]
            try:
                result = actions.register_move_in(
                    ctx.with_purpose("registry.change"),
                    persons=[_new_person(f.cleaned_data) for f in entered],
                    address=form.cleaned_data["address"],
                    address_detail=form.cleaned_data["address_detail"],
                    effective_date=form.cleaned_data["effective_date"],
                    filed_on=None if ex_officio else form.cleaned_data["filed_on"],
                    previous_address=form.cleaned_data["previous_address"],
                    origin=form.cleaned_data["origin"],
                    household_number=form.cleaned_data["household_number"] or None,
                    reason=form.cleaned_data["reason"],
                    ex_officio=ex_officio,
                    confirm_duplicates=bool(form.cleaned_data.get("confirm_duplicates")),
                )
            except actions.PossibleDuplicate as exc:
                # Ask again, now with the box to confirm that they are different people.
                form = MoveInForm(data, ex_officio=ex_officio, confirm=True)
                form.is_valid()
                apply_errors(form, exc, persons=entered)
            except ValidationError as exc:
                apply_errors(form, exc, persons=entered)
            except Http404:
                form.add_error("household_number", "この世帯番号の世帯は見つかりません。")
            else:
                return _done(request, result, "職権記載" if ex_officio else "転入")
    return _render(
        request,
        "move_in.html",
        {
            "form": form,
            "persons": persons,
            "first_person": persons.forms[0],
            "more_persons": persons.forms[1:],
            "more_open": any(f.has_changed() or f.errors for f in persons.forms[1:]),
            "ex_officio": ex_officio,
            "title": "職権記載" if ex_officio else "転入届",
        },
        [form, *persons.forms],
        [str(e) for e in persons.non_form_errors()],
    )


@staff_page(WRITE)
@require_http_methods(["GET", "POST"])
def move_in(request: HttpRequest, ctx: TenantContext) -> HttpResponse:
    return _move_in(request, ctx, ex_officio=False)


@staff_page(WRITE)
@require_http_methods(["GET", "POST"])
def ex_officio_entry(request: HttpRequest, ctx: TenantContext) -> HttpResponse:
    return _move_in(request, ctx, ex_officio=True)


# --- 個人の異動 -----------------------------------------------------------------------------------


@staff_page(WRITE)
@require_http_methods(["GET", "POST"])
def birth(request: HttpRequest, ctx: TenantContext, atena: str) -> HttpResponse:
    p = _Person(ctx, atena)
    form = BirthForm(
        request.POST or None,
        initial={"family_name": p.record.family_name, "relationship": Relationship.CHILD},
    )
    if request.method == "POST" and form.is_valid():
        try:
            result = actions.register_birth(
                ctx.with_purpose("registry.change"),
                household_number=p.record.household_number,
                person=_new_person(form.cleaned_data),
                filed_on=form.cleaned_data["filed_on"],
                reason=form.cleaned_data["reason"],
            )
        except ValidationError as exc:
            apply_errors(form, exc, aliases={"effective_date": "birth_date"}, persons=[form])
        else:
            return _done(request, result, "出生")
    return _change_page(request, "birth.html", p, form)


@staff_page(WRITE)
@require_http_methods(["GET", "POST"])
def death(request: HttpRequest, ctx: TenantContext, atena: str) -> HttpResponse:
    p = _Person(ctx, atena)
    form = DeathForm(request.POST or None, others=p.others, is_head=p.is_head)
    if request.method == "POST" and form.is_valid():
        try:
            result = actions.register_death(
                ctx.with_purpose("registry.change"),
                atena_number=atena,
                effective_date=form.cleaned_data["effective_date"],
                filed_on=form.cleaned_data["filed_on"],
                new_head=form.cleaned_data.get("new_head") or None,
                reason=form.cleaned_data["reason"],
            )
        except ValidationError as exc:
            apply_errors(form, exc)
        else:
            return _done(request, result, "死亡", atena)
    return _change_page(request, "death.html", p, form)


@staff_page(WRITE)
@require_http_methods(["GET", "POST"])
def move_out(request: HttpRequest, ctx: TenantContext, atena: str) -> HttpResponse:
    p = _Person(ctx, atena)
    residents = [m for m in p.members if m.status == ResidentStatus.RESIDENT]
    form = MoveOutForm(request.POST or None, members=residents, initial={"members": [atena]})
    if request.method == "POST" and form.is_valid():
        try:
            result = actions.register_move_out(
                ctx.with_purpose("registry.change"),
                atena_numbers=form.cleaned_data["members"],
                planned_date=form.cleaned_data["planned_date"],
                filed_on=form.cleaned_data["filed_on"],
                destination=form.cleaned_data["destination"],
                new_head=form.cleaned_data["new_head"] or None,
                reason=form.cleaned_data["reason"],
            )
        except ValidationError as exc:
            apply_errors(form, exc, aliases={"effective_date": "planned_date"})
        else:
            return _done(request, result, "転出（予定）", atena)
    return _change_page(request, "move_out.html", p, form)


@staff_page(WRITE)
@require_http_methods(["GET", "POST"])
def confirm_move_out(request: HttpRequest, ctx: TenantContext, atena: str) -> HttpResponse:
    p = _Person(ctx, atena)
    leaving = [m for m in p.members if m.status == ResidentStatus.MOVING_OUT]
    initial = {"members": [atena]} if p.record.status == ResidentStatus.MOVING_OUT else {}
    form = ConfirmMoveOutForm(request.POST or None, members=leaving, initial=initial)
    if request.method == "POST" and form.is_valid():
        try:
            result = actions.confirm_move_out(
                ctx.with_purpose("registry.change"),
                atena_numbers=form.cleaned_data["members"],
                effective_date=form.cleaned_data["effective_date"],
                notified_on=form.cleaned_data["notified_on"],
                reason=form.cleaned_data["reason"],
            )
        except ValidationError as exc:
            apply_errors(form, exc, aliases={"filed_on": "notified_on"})
        else:
            return _done(request, result, "転出（確定）", atena)
    return _change_page(request, "confirm_move_out.html", p, form, leaving=leaving)


@staff_page(WRITE)
@require_http_methods(["GET", "POST"])
def address_change(request: HttpRequest, ctx: TenantContext, atena: str) -> HttpResponse:
    p = _Person(ctx, atena)
    residents = [m for m in p.members if m.status == ResidentStatus.RESIDENT]
    form = AddressChangeForm(
        request.POST or None, members=residents, initial={"members": [m.atena_number for m in residents]}
    )
    if request.method == "POST" and form.is_valid():
        try:
            result = actions.register_address_change(
                ctx.with_purpose("registry.change"),
                atena_numbers=form.cleaned_data["members"],
                address=form.cleaned_data["address"],
                address_detail=form.cleaned_data["address_detail"],
                effective_date=form.cleaned_data["effective_date"],
                filed_on=form.cleaned_data["filed_on"],
                new_household_head=form.cleaned_data["new_household_head"] or None,
                remaining_head=form.cleaned_data["remaining_head"] or None,
                reason=form.cleaned_data["reason"],
            )
        except ValidationError as exc:
            apply_errors(form, exc, aliases={"household_head": "remaining_head"})
        else:
            return _done(request, result, "転居", atena)
    return _change_page(request, "address_change.html", p, form)


@staff_page(WRITE)
@require_http_methods(["GET", "POST"])
def household_change(request: HttpRequest, ctx: TenantContext, atena: str) -> HttpResponse:
    p = _Person(ctx, atena)
    residents = [m for m in p.members if m.status == ResidentStatus.RESIDENT]
    form = HouseholdChangeForm(request.POST or None, members=residents)
    if request.method == "POST" and form.is_valid():
        kind = form.cleaned_data["change_type"]
        try:
            result = actions.change_household(
                ctx.with_purpose("registry.change"),
                change_type=kind,
                relationships=form.relationships(),
                effective_date=form.cleaned_data["effective_date"],
                filed_on=form.cleaned_data["filed_on"],
                household_number=form.cleaned_data["merge_into"] if kind == ChangeType.HOUSEHOLD_MERGE else None,
                new_household=kind == ChangeType.HOUSEHOLD_SPLIT,
                reason=form.cleaned_data["reason"],
            )
        except ValidationError as exc:
            apply_errors(form, exc, aliases={"household_head": "", "relationship": "", "relationships": ""})
        except Http404:
            form.add_error("merge_into", "この世帯番号の世帯は見つかりません。")
        else:
            return _done(request, result, _label(ChangeType.choices, kind), atena)
    return _change_page(request, "household_change.html", p, form)


@staff_page(WRITE)
@require_http_methods(["GET", "POST"])
def name_change(request: HttpRequest, ctx: TenantContext, atena: str) -> HttpResponse:
    p = _Person(ctx, atena)
    rec = p.record
    form = NameChangeForm(
        request.POST or None,
        initial={
            "family_name": rec.family_name,
            "given_name": rec.given_name,
            "family_name_kana": rec.family_name_kana,
            "given_name_kana": rec.given_name_kana,
        },
    )
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            result = actions.register_name_change(
                ctx.with_purpose("registry.change"),
                atena_number=atena,
                family_name=data["family_name"],
                given_name=data["given_name"],
                family_name_kana=data["family_name_kana"],
                given_name_kana=data["given_name_kana"],
                effective_date=data["effective_date"],
                filed_on=data["filed_on"],
                keep_former_family_name=data["keep_former_family_name"],
                reason=data["reason"],
            )
        except ValidationError as exc:
            apply_errors(form, exc)
        else:
            return _done(request, result, "氏名変更", atena)
    return _change_page(request, "name_change.html", p, form)


@staff_page(WRITE)
@require_http_methods(["GET", "POST"])
def correction(request: HttpRequest, ctx: TenantContext, atena: str) -> HttpResponse:
    p = _Person(ctx, atena)
    rec = p.record
    history = queries.get_history(ctx.with_purpose("registry.view"), atena)
    initial: dict[str, Any] = {name: getattr(rec, name) for name in CorrectionForm.ITEMS}
    initial["voter_registered"] = "yes" if rec.voter_registered else "no"
    form = CorrectionForm(request.POST or None, history=history, initial=initial)
    if request.method == "POST" and form.is_valid():
        try:
            result = actions.correct_record(
                ctx.with_purpose("registry.change"),
                atena_number=atena,
                corrects_change=int(form.cleaned_data["corrects_change"]),
                changes=form.corrections(),
                reason=form.cleaned_data["reason"],
            )
        except ValidationError as exc:
            apply_errors(form, exc, aliases={"changes": "", "effective_date": "corrects_change"})
        except Http404:
            form.add_error("corrects_change", "この異動はこの方の記録にありません。")
        else:
            return _done(request, result, "職権修正", atena)
    return _change_page(request, "correction.html", p, form)


@staff_page(WRITE)
@require_http_methods(["GET", "POST"])
def removal(request: HttpRequest, ctx: TenantContext, atena: str) -> HttpResponse:
    p = _Person(ctx, atena)
    form = RemovalForm(request.POST or None, others=p.others, is_head=p.is_head)
    if request.method == "POST" and form.is_valid():
        try:
            result = actions.remove_ex_officio(
                ctx.with_purpose("registry.change"),
                atena_number=atena,
                effective_date=form.cleaned_data["effective_date"],
                reason=form.cleaned_data["reason"],
                new_head=form.cleaned_data.get("new_head") or None,
            )
        except ValidationError as exc:
            apply_errors(form, exc)
        else:
            return _done(request, result, "職権消除", atena)
    return _change_page(request, "removal.html", p, form)


@staff_page(WRITE)
@require_http_methods(["GET", "POST"])
def restoration(request: HttpRequest, ctx: TenantContext, atena: str) -> HttpResponse:
    p = _Person(ctx, atena)
    form = RestorationForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            result = actions.restore_ex_officio(
                ctx.with_purpose("registry.change"),
                atena_number=atena,
                effective_date=form.cleaned_data["effective_date"],
                reason=form.cleaned_data["reason"],
                relationship=form.cleaned_data["relationship"] or None,
            )
        except ValidationError as exc:
            apply_errors(form, exc, aliases={"household_head": "relationship"})
        else:
            return _done(request, result, "職権回復", atena)
    return _change_page(request, "restoration.html", p, form)


# --- 一覧 ---------------------------------------------------------------------------------------


@staff_page(READ)
def late_filings(request: HttpRequest, ctx: TenantContext) -> HttpResponse:
    today = _today()
    form = LateFilingsForm(request.GET or None, initial={"since": today - timedelta(days=365), "until": today})
    rows: list[dict[str, Any]] = []
    span = None
    if not request.GET:
        span = (today - timedelta(days=365), today)
    elif form.is_valid():
        span = (form.cleaned_data["since"], form.cleaned_data["until"])
    if span is not None:
        for c in queries.late_filings(ctx.with_purpose("registry.late_filings"), *span):
            rows.append(
                {
                    "change_number": c.change_number,
                    "label": _label(ChangeType.choices, c.change_type),
                    "effective_date": jdate(c.effective_date),
                    "filed_on": jdate(c.filed_on),
                    "days": (c.filed_on - c.effective_date).days if c.filed_on else None,
                    "actor_name": c.actor_name,
                    "reason": c.reason,
                }
            )
    return _render(
        request,
        "late_filings.html",
        {"form": form, "rows": rows, "span": span and (jdate(span[0]), jdate(span[1]))},
        [form],
    )


def _order_row(order: Any, today: date) -> dict[str, Any]:
    return {
        "id": order.pk,
        "atena_number": order.person.atena_number,
        "full_name": f"{order.person.family_name}　{order.person.given_name}".strip("　"),
        "starts_on": jdate(order.starts_on),
        "expires_on": jdate(order.expires_on),
        "ended_on": jdate(order.ended_on),
        "adversary": order.adversary_display,
        "active": order.ended_on is None and order.starts_on <= today <= order.expires_on,
    }


@staff_page(PROTECTION)
def protections(request: HttpRequest, ctx: TenantContext) -> HttpResponse:
    today = _today()
    form = ProtectionListForm(request.GET or None)
    include_ended = form.is_valid() and form.cleaned_data["include_ended"]
    orders = queries.list_protections(ctx.with_purpose("registry.protection"), today=today, include_ended=include_ended)
    return render(
        request,
        "registry/protections.html",
        {"form": form, "rows": [_order_row(o, today) for o in orders], "include_ended": include_ended},
    )


@staff_page(PROTECTION)
@require_http_methods(["GET", "POST"])
def protection(request: HttpRequest, ctx: TenantContext, atena: str) -> HttpResponse:
    p = _Person(ctx, atena)
    today = _today()
    pctx = ctx.with_purpose("registry.protection")
    orders = [
        o for o in queries.list_protections(pctx, today=today, include_ended=True) if o.person.atena_number == atena
    ]
    open_orders = {o.pk: o for o in orders if o.ended_on is None}
    op = request.POST.get("op", "") if request.method == "POST" else ""
    set_form = ProtectionSetForm(
        request.POST if op == "set" else None, others=[m for m in p.members if m.atena_number != atena]
    )
    end_forms = {
        pk: ProtectionEndForm(
            request.POST if op == "end" and request.POST.get("order_id") == str(pk) else None,
            prefix=f"end-{pk}",
            initial={"ended_on": today},
        )
        for pk in open_orders
    }
    page_errors: list[str] = []
    if op not in ("", "set", "extend", "end"):
        raise Http404
    if op == "set" and set_form.is_valid():
        data = set_form.cleaned_data
        try:
            actions.set_protection(
                pctx,
                atena_number=atena,
                starts_on=data["starts_on"],
                adversary=actions.Adversary(data["adversary_name"], data["adversary_birth_date"]),
                co_residents=data.get("co_residents") or [],
                reason=data["reason"],
            )
        except ValidationError as exc:
            apply_errors(set_form, exc, aliases={"adversary": "adversary_name"})
        else:
            messages.success(request, "支援措置を設定しました。")
            return redirect("registry:protection", atena=atena)
    elif op in ("extend", "end"):
        try:
            order_id = int(request.POST.get("order_id", ""))
        except ValueError:
            raise Http404 from None
        if order_id not in open_orders:
            raise Http404  # another person's (or municipality's) order looks like none at all
        if op == "extend":
            try:
                until = actions.extend_protection(pctx, order_id=order_id, today=today)
            except ValidationError as exc:
                page_errors.extend(exc.messages)
            else:
                messages.success(request, f"支援措置を延長しました（終了予定日 {jdate(until)}）。")
                return redirect("registry:protection", atena=atena)
        else:
            end_form = end_forms[order_id]
            if end_form.is_valid():
                try:
                    actions.end_protection(
                        pctx,
                        order_id=order_id,
                        ended_on=end_form.cleaned_data["ended_on"],
                        reason=end_form.cleaned_data["end_reason"],
                    )
                except ValidationError as exc:
                    apply_errors(end_form, exc)
                else:
                    messages.success(request, "支援措置を終了しました。")
                    return redirect("registry:protection", atena=atena)
    rows = []
    for o in orders:
        row = _order_row(o, today)
        row["end_form"] = end_forms.get(o.pk)
        rows.append(row)
    return _render(
        request,
        "protection.html",
        {**p.context(), "set_form": set_form, "rows": rows},
        [set_form, *end_forms.values()],
        page_errors,
    )


# --- 証明書の交付 ----------------------------------------------------------------------------------

_NONCES = "registry.certificate.previews"
# Which form field an IssueRefused code is about (the rest go to the summary).
_REFUSAL_FIELDS = {
    "individual_number_purpose_required": "individual_number_purpose",
    "purpose_required": "purpose",
    "not_in_household": "members",
    "not_removed": "kind",
    "removed_person": "kind",
}


def _certificate_request(form: CertificateForm) -> certificates.CertificateRequest:
    data = form.cleaned_data
    return certificates.CertificateRequest(
        kind=data["kind"],
        # Print order: as the household lists them (the 世帯主 first), whatever order they were ticked in.
        atena_numbers=tuple(a for a in form.member_order if a in set(data["members"])),
        channel=data["channel"],
        requester=certificates.Requester(
            name=data["requester_name"],
            birth_date=data["requester_birth_date"],
            atena_number=data["requester_atena"] or None,
            relation=data["relation"],
        ),
        include=frozenset(data["include"]),
        individual_number_purpose=data["individual_number_purpose"] if "individual_number" in data["include"] else "",
        purpose=data["purpose"],
    )


@staff_page(ISSUE)
@require_http_methods(["GET", "POST"])
def certificate(request: HttpRequest, ctx: TenantContext, atena: str) -> HttpResponse:
    """住民票の写し等: the form, a preview of exactly what will be printed, then the issue.

    The PDF is not stored (only its SHA-256), so the issuing POST answers with the PDF
    itself; the 交付番号, fee and verification code wait in a message for the next page.
    A preview carries a one-time token, so pressing 交付 twice cannot issue twice.
    """
    p = _Person(ctx, atena)
    removed = p.record.status == ResidentStatus.REMOVED
    members: Sequence[Any] = [p.record] if removed else p.members
    op = request.POST.get("op", "") if request.method == "POST" else ""
    initial = {
        "kind": "removed" if removed else "household",
        "members": [atena],
        "channel": "counter",
        "relation": "self",
        "requester_atena": "" if removed else atena,
    }
    form = CertificateForm(request.POST if op else None, members=members, initial=initial)
    context = {**p.context(), "form": form}
    if op not in ("", "preview", "edit", "issue"):
        raise Http404
    # "edit" (back from the preview) falls through: the form again, as the clerk filled it in.
    if op in ("preview", "issue") and form.is_valid():
        cert_request = _certificate_request(form)
        if op == "preview":
            nonce = secrets.token_urlsafe(16)
            request.session[_NONCES] = [*request.session.get(_NONCES, [])[-19:], nonce]
            # The preview carries what was entered, as plain hidden values, to the 交付 (or back to 修正).
            hidden = [(name, v) for name in form.fields for v in request.POST.getlist(name)]
            return _render(
                request,
                "certificate_preview.html",
                {**context, **_preview(form, cert_request, p), "nonce": nonce, "hidden": hidden},
            )
        nonces = request.session.get(_NONCES, [])
        if request.POST.get("nonce") not in nonces:
            messages.warning(
                request, "この確認画面の内容は交付済みか、有効期限が切れています。内容を確認してやり直してください。"
            )
            return redirect("registry:certificate", atena=atena)
        try:
            issued = certificates.issue_certificate(
                ctx.with_purpose("registry.certificate"), cert_request, today=_today()
            )
        except certificates.IssueRefused as refused:
            field = _REFUSAL_FIELDS.get(refused.code)
            form.add_error(field if field in form.fields else None, refused.message)
        else:
            request.session[_NONCES] = [n for n in nonces if n != request.POST.get("nonce")]
            messages.success(
                request,
                f"{dict(CERTIFICATE_KINDS)[cert_request.kind]}を交付しました。交付番号 {issued.issue_number}、"
                f"手数料 {issued.fee_yen:,}円、{issued.pages}枚、照合番号 {issued.verification_code}。",
            )
            response = HttpResponse(issued.pdf, content_type="application/pdf")
            response["Content-Disposition"] = f"attachment; filename=juminhyo-{issued.issue_number}.pdf"
            response["Cache-Control"] = "no-store"
            return response
    return _render(request, "certificate_request.html", context, [form])


def _preview(form: CertificateForm, req: certificates.CertificateRequest, p: _Person) -> dict[str, Any]:
    names = {m.atena_number: m.full_name for m in p.members}
    names.setdefault(p.atena, p.record.full_name)
    items = ["氏名", "生年月日", "性別", "住所"]
    if req.kind != "record_items":
        items += ["住民となった日", "住所を定めた日", "届出日", "従前の住所", "備考（転出予定・消除の事由など）"]
    return {
        "kind_label": dict(CERTIFICATE_KINDS)[req.kind],
        "subjects": [(a, names.get(a, a)) for a in req.atena_numbers],
        "items": items,
        "included": form.item_labels(),
        "omitted": [label for value, label in CERTIFICATE_ITEMS if value not in req.include],
        "channel_label": dict(CERTIFICATE_CHANNELS)[req.channel],
        "relation_label": dict(REQUESTER_RELATIONS)[req.requester.relation],
        "requester": req.requester,
        "requester_birth_date": jdate(req.requester.birth_date),
        "purpose": req.purpose,
        "individual_number_purpose": req.individual_number_purpose,
    }
