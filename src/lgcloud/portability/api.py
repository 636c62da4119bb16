"""``/api/v1/municipalities/{lg_code}/exports``: full-export requests and their two-person approval.

Another municipality's code answers 404, like a request that does not exist. There is
no download: the bundle stays in the server's export directory (docs/portability.md).
"""

from __future__ import annotations

from typing import Annotated, Any

from django.http import Http404, HttpRequest
from ninja import Router, Status
from ninja.params import functions as param

from lgcloud.accounts.auth import api_context, staff_auth
from lgcloud.core.tenancy import TenantContext

from .approvals import access, actions, queries
from .schemas import ExportRejectIn, ExportRequestIn, ExportRequestOut

router = Router(tags=["データ移行（全件出力）"], auth=staff_auth())

LgCode = Annotated[str, param.Path(..., pattern=r"^[0-9]{6}$", description="全国地方公共団体コード")]
BASE = "/municipalities/{lg_code}/exports"


def _ctx(request: HttpRequest, lg_code: str) -> TenantContext:
    ctx = api_context(request, purpose="portability.export")
    if ctx.lg_code != lg_code:
        raise Http404
    return ctx


def _out(ctx: TenantContext, req: Any) -> dict[str, Any]:
    job = queries.job_of(ctx, req)
    return {
        "id": req.pk,
        "state": req.state,
        "state_label": queries.shown_state(ctx, req),
        "requester_id": req.requester_id,
        "requester_name": req.requester_name,
        "purpose": req.purpose,
        "include_individual_numbers": req.include_individual_numbers,
        "requested_at": req.requested_at,
        "expires_at": req.expires_at,
        "decided_by_id": req.decided_by_id,
        "decided_by_name": req.decided_by_name,
        "decided_at": req.decided_at,
        "decision_reason": req.decision_reason,
        "started_at": req.started_at,
        "finished_at": req.finished_at,
        "job_id": req.job_id,
        "job_state": job.state if job is not None else None,
        "bundle": req.bundle,
        "files": req.files,
        "manifest_sha256": req.manifest_sha256,
        "error": req.error,
    }


@router.get(BASE, response=list[ExportRequestOut], summary="全件出力の申請の一覧")
def list_exports(request: HttpRequest, lg_code: LgCode) -> Any:
    ctx = _ctx(request, lg_code)
    return [_out(ctx, r) for r in queries.list_export_requests(ctx)]


@router.post(BASE, response={201: ExportRequestOut}, summary="全件出力を申請する")
def create_export(request: HttpRequest, lg_code: LgCode, payload: ExportRequestIn) -> Any:
    ctx = _ctx(request, lg_code)
    req = actions.request_export(
        ctx, purpose=payload.purpose, include_individual_numbers=payload.include_individual_numbers
    )
    return Status(201, _out(ctx, req))


@router.get(f"{BASE}/{{request_id}}", response=ExportRequestOut, summary="全件出力の申請")
def get_export(request: HttpRequest, lg_code: LgCode, request_id: int) -> Any:
    ctx = _ctx(request, lg_code)
    return _out(ctx, access.get_export_request(ctx, request_id))


@router.post(
    f"{BASE}/{{request_id}}/approve",
    response=ExportRequestOut,
    summary="全件出力を承認する（申請者とは別の職員）",
    description=(
        "承認すると、承認者の権限で出力用フォルダへ出力します。住民数が LGCLOUD_EXPORT_SYNC_MAX_PERSONS 以下なら"
        "この要求の中で出力し（state=completed / failed）、それより多ければ state=approved のまま"
        " `lgcloud run_exports` が出力します。申請者本人は 403 export_self_approval、申請中でなければ"
        " 409 export_not_pending、承認期限切れは 409 export_expired。"
    ),
)
def approve_export(request: HttpRequest, lg_code: LgCode, request_id: int) -> Any:
    ctx = _ctx(request, lg_code)
    access.get_export_request(ctx, request_id)  # 404 before 403: nothing to learn about others' requests
    actions.approve_export(ctx, request_id)
    actions.run_if_small(ctx, request_id)
    return _out(ctx, access.get_export_request(ctx, request_id))


@router.post(f"{BASE}/{{request_id}}/reject", response=ExportRequestOut, summary="全件出力の申請を却下する")
def reject_export(request: HttpRequest, lg_code: LgCode, request_id: int, payload: ExportRejectIn) -> Any:
    ctx = _ctx(request, lg_code)
    access.get_export_request(ctx, request_id)
    return _out(ctx, actions.reject_export(ctx, request_id, reason=payload.reason))


@router.post(f"{BASE}/{{request_id}}/cancel", response=ExportRequestOut, summary="全件出力の申請を取り消す（申請者）")
def cancel_export(request: HttpRequest, lg_code: LgCode, request_id: int) -> Any:
    ctx = _ctx(request, lg_code)
    access.get_export_request(ctx, request_id)
    return _out(ctx, actions.cancel_export(ctx, request_id))
