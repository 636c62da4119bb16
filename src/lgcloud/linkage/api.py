"""``/api/v1/municipalities/{lg_code}/…``: the event feed, purpose-bound reads, access history, webhooks, transfers.

Systems authenticate with an OAuth 2.0 access token (client credentials, ``/oauth/token/``);
staff with their session or personal token. The path's municipality must be the
caller's own; any other answers 404, the same as a code that does not exist.
"""

from __future__ import annotations

import dataclasses
from typing import Annotated, Any

from django.http import Http404, HttpRequest
from django.utils import timezone
from ninja import Router, Status
from ninja.params import functions as param

from lgcloud.accounts.auth import staff_auth
from lgcloud.core.tenancy import TenantContext

from . import actions, queries
from .auth import caller, client_auth, client_or_staff_auth, staff_context
from .schemas import (
    AccessEntryOut,
    DeliveryOut,
    FeedOut,
    PurposeReadOut,
    SubscriptionCreatedOut,
    SubscriptionIn,
    SubscriptionOut,
    TransferConfirmIn,
    TransferOut,
)

router = Router(tags=["連携"])

LgCode = Annotated[str, param.Path(..., pattern=r"^[0-9]{6}$", description="全国地方公共団体コード")]
Atena = Annotated[str, param.Path(..., pattern=r"^[0-9]{1,10}$", description="宛名番号")]
BASE = "/municipalities/{lg_code}"


def _ctx(request: HttpRequest, lg_code: str, purpose: str) -> TenantContext:
    client = caller(request)
    ctx = client.context(purpose) if client is not None else staff_context(request, purpose)
    if ctx.lg_code != lg_code:
        raise Http404  # another municipality, or none: indistinguishable from a missing one
    return ctx


@router.get(f"{BASE}/events", response=FeedOut, auth=client_or_staff_auth(), summary="連携イベントの取得（カーソル）")
def read_events(
    request: HttpRequest,
    lg_code: LgCode,
    after: Annotated[int, param.Query(0, ge=0, description="前回の next_cursor（最初は 0）")] = 0,
    limit: Annotated[int, param.Query(100, ge=1, le=queries.MAX_FEED_PAGE)] = 100,
    type: Annotated[
        list[str] | None, param.Query(None, description="種別の前方一致（例: registry.person）。複数可")
    ] = None,
) -> Any:
    page = queries.read_feed(_ctx(request, lg_code, "linkage.events"), after=after, limit=limit, types=type)
    return {"events": page.events, "next_cursor": page.next_cursor, "has_more": page.has_more}


@router.get(
    f"{BASE}/linkage/persons/{{atena_number}}",
    response=PurposeReadOut,
    auth=client_auth(),
    summary="利用目的に応じた住民票項目の参照（外部システム）",
)
def read_person(
    request: HttpRequest,
    lg_code: LgCode,
    atena_number: Atena,
    purpose: Annotated[str, param.Query(..., max_length=100, description="利用目的（データマップのコード）")],
) -> Any:
    ctx = _ctx(request, lg_code, purpose)
    read = queries.read_person_for_purpose(ctx, atena_number, purpose, today=timezone.localdate())
    p = read.purpose
    return {
        "atena_number": read.atena_number,
        "purpose": {"code": p.code, "label": p.label, "legal_basis": p.legal_basis, "references": list(p.references)},
        "items": read.items,
    }


@router.get(
    f"{BASE}/persons/{{atena_number}}/access-log",
    response=list[AccessEntryOut],
    auth=client_or_staff_auth(),
    summary="自分の情報を誰が参照したか（利用状況）",
)
def access_log(request: HttpRequest, lg_code: LgCode, atena_number: Atena) -> Any:
    entries = queries.access_history(_ctx(request, lg_code, "self.access_log"), atena_number)
    base = f"/api/v1/municipalities/{lg_code}/persons/{atena_number}/access-log"
    return [
        {
            **dataclasses.asdict(e),
            "sealed": e.seq is not None,
            "seal_status": "封印済み" if e.seq is not None else "封印待ち",
            "proof_url": f"{base}/{e.id}/proof" if e.seq is not None else None,
        }
        for e in entries
    ]


@router.get(
    f"{BASE}/persons/{{atena_number}}/access-log/{{entry_id}}/proof",
    response=dict[str, Any],
    auth=client_or_staff_auth(),
    summary="利用状況の記録の包含証明（JSON、オフラインで検証できる）",
    description=(
        "記録が団体の監査ログ（マークル木）に含まれていることの証明（RFC 9162）と署名済みツリーヘッド。"
        "`python -m lgcloud.audit.proofcheck FILE.json` で検証できます（docs/audit.md）。"
        "封印待ちの記録は 409 `not_sealed`。"
    ),
)
def access_log_proof(
    request: HttpRequest,
    lg_code: LgCode,
    atena_number: Atena,
    entry_id: Annotated[int, param.Path(..., ge=1)],
) -> Any:
    return queries.access_proof(_ctx(request, lg_code, "self.access_log"), atena_number, entry_id)


# --- webhooks (団体管理者) ---------------------------------------------------------------------------


def _subscription(s: Any) -> dict[str, Any]:
    return {"id": s.pk, "name": s.name, "url": s.url, "event_types": list(s.event_types), "active": s.active}


@router.get(
    f"{BASE}/webhooks/subscriptions", response=list[SubscriptionOut], auth=staff_auth(), summary="Webhook 購読の一覧"
)
def list_subscriptions(request: HttpRequest, lg_code: LgCode) -> Any:
    return [_subscription(s) for s in queries.list_subscriptions(_ctx(request, lg_code, "linkage.webhooks"))]


@router.post(
    f"{BASE}/webhooks/subscriptions",
    response={201: SubscriptionCreatedOut},
    auth=staff_auth(),
    summary="Webhook 購読の登録（署名鍵はこの応答でのみ表示）",
)
def create_subscription(request: HttpRequest, lg_code: LgCode, payload: SubscriptionIn) -> Any:
    created = actions.create_subscription(_ctx(request, lg_code, "linkage.webhooks"), **payload.dict())
    return Status(201, {**_subscription(created.subscription), "secret": created.secret})


@router.get(f"{BASE}/webhooks/deliveries", response=list[DeliveryOut], auth=staff_auth(), summary="Webhook 配信ログ")
def list_deliveries(
    request: HttpRequest,
    lg_code: LgCode,
    status: Annotated[str, param.Query("", pattern=r"^(|pending|delivered|dead)$")] = "",
) -> Any:
    rows = queries.list_deliveries(_ctx(request, lg_code, "linkage.webhooks"), status=status)
    return [{**dataclasses.asdict(r), "id": r.pk} for r in rows]


@router.post(
    f"{BASE}/webhooks/deliveries/{{delivery_id}}/redeliver",
    response={202: None},
    auth=staff_auth(),
    summary="Webhook の再送",
)
def redeliver(request: HttpRequest, lg_code: LgCode, delivery_id: int) -> Any:
    actions.redeliver(_ctx(request, lg_code, "linkage.webhooks"), delivery_id)
    return Status(202, None)


# --- once-only move: the destination's pending 転入 ----------------------------------------------------


def _transfer(t: Any) -> dict[str, Any]:
    return {
        "transfer_id": str(t.transfer_id),
        "source_lg_code": t.source_lg_code,
        "source_name": t.payload.get("source", {}).get("name", t.source_lg_code),
        "planned_date": t.planned_date,
        "status": t.status,
        "persons": list(t.payload.get("persons", [])),
        "change_number": t.change_number,
        "new_atena_numbers": list(t.new_atena_numbers),
    }


@router.get(f"{BASE}/transfers", response=list[TransferOut], auth=staff_auth(), summary="他団体からの転入予定の一覧")
def list_transfers(
    request: HttpRequest,
    lg_code: LgCode,
    status: Annotated[str, param.Query("pending", pattern=r"^(|pending|confirmed|rejected)$")] = "pending",
) -> Any:
    return [_transfer(t) for t in queries.list_transfers(_ctx(request, lg_code, "registry.transfer"), status=status)]


@router.post(
    f"{BASE}/transfers/{{transfer_id}}/confirm",
    response={201: TransferOut},
    auth=staff_auth(),
    summary="転入予定の確認と転入処理（転出確定通知が転出元へ送られます）",
)
def confirm_transfer(request: HttpRequest, lg_code: LgCode, transfer_id: str, payload: TransferConfirmIn) -> Any:
    ctx = _ctx(request, lg_code, "registry.transfer")
    actions.confirm_transfer(ctx, transfer_id=transfer_id, **payload.dict())
    return Status(201, _transfer(queries.get_transfer(ctx, transfer_id)))
