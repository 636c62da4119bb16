"""``/api/v1/municipalities/{lg_code}/…``: persons, households and 異動 of the caller's municipality.

The path's municipality must be the caller's own; any other answers 404, the
same as a code that does not exist.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from datetime import date
from typing import Annotated, Any

from django.http import Http404, HttpRequest, HttpResponse
from django.utils import timezone
from ninja import Router, Schema, Status
from ninja.params import functions as param

from lgcloud.contract import Problem
from lgcloud.contract.platform import api_auth, api_context
from lgcloud.core import idempotency
from lgcloud.core.tenancy import TenantContext

from . import actions, certificates, queries
from .kiosk_api import router as kiosk_router
from .permissions import RegistryPermission
from .rules.record import ForeignResidentItems, ResidentRecord
from .schemas import (
    AddressChangeIn,
    BirthIn,
    CertificateIn,
    CertificateRevokeIn,
    ChangeResultOut,
    CorrectionIn,
    DeathIn,
    HistoryEntryOut,
    HouseholdChangeIn,
    IndividualNumberIn,
    LateFilingOut,
    MoveInIn,
    MoveOutConfirmIn,
    MoveOutIn,
    NameChangeIn,
    NewPersonIn,
    PersonSummaryOut,
    RecordOut,
    RemovalIn,
    RestorationIn,
    RevealIn,
    RevealOut,
    SearchPageOut,
)

router = Router(tags=["住民記録"], auth=api_auth())

LgCode = Annotated[str, param.Path(..., pattern=r"^[0-9]{6}$", description="全国地方公共団体コード")]
Atena = Annotated[str, param.Path(..., pattern=r"^[0-9]{1,10}$", description="宛名番号")]
BASE = "/municipalities/{lg_code}"


def _ctx(request: HttpRequest, lg_code: str, purpose: str) -> TenantContext:
    ctx = api_context(request, purpose=purpose)
    if ctx.lg_code != lg_code:
        raise Http404  # another municipality, or none: indistinguishable from a missing one
    return ctx


def _record(rec: ResidentRecord) -> dict[str, Any]:
    return dataclasses.asdict(rec)


def _new(p: NewPersonIn) -> actions.NewPerson:
    values = p.dict()
    values["foreign"] = ForeignResidentItems(**values["foreign"])
    return actions.NewPerson(**values)


@router.get(f"{BASE}/persons", response=SearchPageOut, summary="住民の検索")
def search_persons(
    request: HttpRequest,
    lg_code: LgCode,
    name: Annotated[str, param.Query("", max_length=100, description="氏名（漢字、前方一致・異体字を同一視）")] = "",
    kana: Annotated[str, param.Query("", max_length=100, description="カナ（前方一致・半角可）")] = "",
    birth_date: date | None = None,
    address: Annotated[str, param.Query("", max_length=200)] = "",
    atena_number: Annotated[str, param.Query("", max_length=10)] = "",
    household_number: Annotated[str, param.Query("", max_length=10)] = "",
    include_removed: bool = False,
    page: Annotated[int, param.Query(1, ge=1)] = 1,
) -> Any:
    ctx = _ctx(request, lg_code, "registry.search")
    query = queries.SearchQuery(name, kana, birth_date, address, atena_number, household_number, include_removed)
    if query.is_empty():
        from django.core.exceptions import ValidationError

        raise ValidationError({"name": "検索条件を1つ以上指定してください。"})
    result = queries.search_persons(ctx, query, page, today=timezone.localdate())
    return {
        "results": [dataclasses.asdict(r) for r in result.results],
        "page": result.page,
        "has_next": result.has_next,
    }


@router.get(f"{BASE}/persons/{{atena_number}}", response=RecordOut, summary="住民票（現在）")
def get_person(request: HttpRequest, lg_code: LgCode, atena_number: Atena) -> Any:
    return _record(queries.get_record(_ctx(request, lg_code, "registry.view"), atena_number))


@router.get(f"{BASE}/persons/{{atena_number}}/as-of/{{on}}", response=RecordOut, summary="基準日の住民票")
def get_person_as_of(request: HttpRequest, lg_code: LgCode, atena_number: Atena, on: date) -> Any:
    rec = queries.get_record_as_of(_ctx(request, lg_code, "registry.view"), atena_number, on)
    if rec is None:
        raise Http404
    return _record(rec)


@router.get(f"{BASE}/persons/{{atena_number}}/history", response=list[HistoryEntryOut], summary="異動の履歴")
def get_history(request: HttpRequest, lg_code: LgCode, atena_number: Atena) -> Any:
    entries = queries.get_history(_ctx(request, lg_code, "registry.view"), atena_number)
    return [{**dataclasses.asdict(e), "record": _record(e.record)} for e in entries]


@router.get(f"{BASE}/households/{{household_number}}", response=list[PersonSummaryOut], summary="世帯")
def get_household(request: HttpRequest, lg_code: LgCode, household_number: Atena) -> Any:
    members = queries.get_household(
        _ctx(request, lg_code, "registry.view"), household_number, today=timezone.localdate()
    )
    return [dataclasses.asdict(m) for m in members]


@router.get(f"{BASE}/changes/late-filings", response=list[LateFilingOut], summary="届出期間経過の一覧")
def late_filings(request: HttpRequest, lg_code: LgCode, since: date, until: date) -> Any:
    rows = queries.late_filings(_ctx(request, lg_code, "registry.late_filings"), since, until)
    return [
        {
            "change_number": c.change_number,
            "change_type": c.change_type,
            "effective_date": c.effective_date,
            "filed_on": c.filed_on,
            "actor_name": c.actor_name,
        }
        for c in rows
    ]


def _result(result: actions.ChangeResult) -> dict[str, Any]:
    return dataclasses.asdict(result)


def _possible_duplicate(exc: actions.PossibleDuplicate) -> Problem:
    errors = [{"field": f, "message": m} for f, ms in exc.message_dict.items() for m in ms]
    return Problem(
        409,
        "possible_duplicate",
        "同一人の可能性がある住民がいます",
        "確認のうえ confirm_duplicates を true にして再送してください。",
        errors,
    )


def _change(
    request: HttpRequest, ctx: TenantContext, payload: Schema, change: Callable[[], actions.ChangeResult]
) -> Any:
    """A 異動, at most once per ``Idempotency-Key`` when the client sends one (see core.idempotency)."""

    def do() -> actions.ChangeResult:
        try:
            return change()
        except actions.PossibleDuplicate as exc:
            raise _possible_duplicate(exc) from None

    key = request.headers.get(idempotency.HEADER)
    if key is None:
        return Status(201, _result(do()))
    print_ = idempotency.fingerprint(request.method or "POST", request.path, payload.dict())

    def run() -> tuple[int, Any]:
        return 201, ChangeResultOut.model_validate(_result(do())).model_dump(mode="json")

    return idempotency.json_response(idempotency.once(ctx, key, print_, run))


@router.post(f"{BASE}/changes/move-in", response={201: ChangeResultOut}, summary="転入・職権記載")
def move_in(request: HttpRequest, lg_code: LgCode, payload: MoveInIn) -> Any:
    ctx = _ctx(request, lg_code, "registry.change")
    return _change(
        request,
        ctx,
        payload,
        lambda: actions.register_move_in(
            ctx,
            persons=[_new(p) for p in payload.persons],
            address=payload.address,
            address_detail=payload.address_detail,
            effective_date=payload.effective_date,
            filed_on=payload.filed_on,
            previous_address=payload.previous_address,
            origin=payload.origin,
            household_number=payload.household_number,
            reason=payload.reason,
            ex_officio=payload.ex_officio,
            confirm_duplicates=payload.confirm_duplicates,
        ),
    )


@router.post(f"{BASE}/changes/birth", response={201: ChangeResultOut}, summary="出生")
def birth(request: HttpRequest, lg_code: LgCode, payload: BirthIn) -> Any:
    ctx = _ctx(request, lg_code, "registry.change")
    return _change(
        request,
        ctx,
        payload,
        lambda: actions.register_birth(
            ctx,
            household_number=payload.household_number,
            person=_new(payload.person),
            filed_on=payload.filed_on,
            reason=payload.reason,
        ),
    )


@router.post(f"{BASE}/changes/death", response={201: ChangeResultOut}, summary="死亡")
def death(request: HttpRequest, lg_code: LgCode, payload: DeathIn) -> Any:
    ctx = _ctx(request, lg_code, "registry.change")
    return _change(request, ctx, payload, lambda: actions.register_death(ctx, **payload.dict()))


@router.post(f"{BASE}/changes/move-out", response={201: ChangeResultOut}, summary="転出（予定）")
def move_out(request: HttpRequest, lg_code: LgCode, payload: MoveOutIn) -> Any:
    ctx = _ctx(request, lg_code, "registry.change")
    return _change(request, ctx, payload, lambda: actions.register_move_out(ctx, **payload.dict()))


@router.post(f"{BASE}/changes/move-out-confirmation", response={201: ChangeResultOut}, summary="転出（確定）")
def move_out_confirmation(request: HttpRequest, lg_code: LgCode, payload: MoveOutConfirmIn) -> Any:
    ctx = _ctx(request, lg_code, "registry.change")
    return _change(request, ctx, payload, lambda: actions.confirm_move_out(ctx, **payload.dict()))


@router.post(f"{BASE}/changes/address-change", response={201: ChangeResultOut}, summary="転居")
def address_change(request: HttpRequest, lg_code: LgCode, payload: AddressChangeIn) -> Any:
    ctx = _ctx(request, lg_code, "registry.change")
    return _change(request, ctx, payload, lambda: actions.register_address_change(ctx, **payload.dict()))


@router.post(f"{BASE}/changes/household", response={201: ChangeResultOut}, summary="世帯変更")
def household_change(request: HttpRequest, lg_code: LgCode, payload: HouseholdChangeIn) -> Any:
    ctx = _ctx(request, lg_code, "registry.change")
    return _change(request, ctx, payload, lambda: actions.change_household(ctx, **payload.dict()))


@router.post(f"{BASE}/changes/name-change", response={201: ChangeResultOut}, summary="氏名変更")
def name_change(request: HttpRequest, lg_code: LgCode, payload: NameChangeIn) -> Any:
    ctx = _ctx(request, lg_code, "registry.change")
    return _change(request, ctx, payload, lambda: actions.register_name_change(ctx, **payload.dict()))


@router.post(f"{BASE}/changes/correction", response={201: ChangeResultOut}, summary="職権修正")
def correction(request: HttpRequest, lg_code: LgCode, payload: CorrectionIn) -> Any:
    ctx = _ctx(request, lg_code, "registry.change")
    return _change(request, ctx, payload, lambda: actions.correct_record(ctx, **payload.dict()))


@router.post(f"{BASE}/changes/ex-officio-removal", response={201: ChangeResultOut}, summary="職権消除")
def removal(request: HttpRequest, lg_code: LgCode, payload: RemovalIn) -> Any:
    ctx = _ctx(request, lg_code, "registry.change")
    return _change(request, ctx, payload, lambda: actions.remove_ex_officio(ctx, **payload.dict()))


@router.post(f"{BASE}/changes/ex-officio-restoration", response={201: ChangeResultOut}, summary="職権回復")
def restoration(request: HttpRequest, lg_code: LgCode, payload: RestorationIn) -> Any:
    ctx = _ctx(request, lg_code, "registry.change")
    return _change(request, ctx, payload, lambda: actions.restore_ex_officio(ctx, **payload.dict()))


@router.put(f"{BASE}/persons/{{atena_number}}/individual-number", response={204: None}, summary="個人番号の記録")
def set_individual_number(
    request: HttpRequest, lg_code: LgCode, atena_number: Atena, payload: IndividualNumberIn
) -> Any:
    actions.set_individual_number(
        _ctx(request, lg_code, "registry.individual_number"),
        atena_number=atena_number,
        individual_number=payload.individual_number,
    )
    return Status(204, None)


@router.post(
    f"{BASE}/persons/{{atena_number}}/individual-number/reveal",
    response=RevealOut,
    summary="個人番号の表示（利用目的を記録）",
)
def reveal_individual_number(request: HttpRequest, lg_code: LgCode, atena_number: Atena, payload: RevealIn) -> Any:
    ctx = _ctx(request, lg_code, "registry.individual_number")
    return {"individual_number": queries.reveal_individual_number(ctx, atena_number, payload.purpose)}


@router.post(
    f"{BASE}/certificates",
    response={200: None},
    summary="証明書の交付（PDF）",
    description="住民票の写し等を交付し、PDF を返します。交付番号と照合番号は X-Issue-Number と "
    "X-Verification-Code ヘッダーに入ります。交付できない場合は problem+json（code は拒否理由）。",
)
def issue_certificate(request: HttpRequest, lg_code: LgCode, payload: CertificateIn) -> HttpResponse:
    ctx = _ctx(request, lg_code, "registry.certificate")
    ctx.require(RegistryPermission.CERTIFICATE_ISSUE)
    certificate_request = certificates.CertificateRequest(
        kind=payload.kind,
        atena_numbers=tuple(payload.atena_numbers),
        channel=payload.channel,
        requester=certificates.Requester(**payload.requester.dict()),
        include=frozenset(payload.include),
        individual_number_purpose=payload.individual_number_purpose,
        purpose=payload.purpose,
    )
    try:
        issued = certificates.issue_certificate(ctx, certificate_request, today=timezone.localdate())
    except certificates.IssueRefused as refused:
        from lgcloud.core.problems import Problem

        status = 503 if refused.code in ("render_timeout", "render_failed") else 403
        raise Problem(status, refused.code, "証明書を交付できません", refused.message) from None
    response = HttpResponse(issued.pdf, content_type="application/pdf")
    response["Content-Disposition"] = f'attachment; filename="juminhyo-{issued.issue_number}.pdf"'
    response["X-Issue-Number"] = str(issued.issue_number)
    response["X-Verification-Code"] = issued.verification_code
    response["Cache-Control"] = "no-store"
    return response


@router.post(f"{BASE}/certificates/{{issue_number}}/revocation", response={204: None}, summary="交付済み証明書の失効")
def revoke_certificate(request: HttpRequest, lg_code: LgCode, issue_number: int, payload: CertificateRevokeIn) -> Any:
    certificates.revoke_certificate(_ctx(request, lg_code, "registry.certificate"), issue_number, payload.reason)
    return Status(204, None)


# コンビニ交付 (the kiosk's own route) is part of the same API.
router.add_router("", kiosk_router)
