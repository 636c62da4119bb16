"""Writes of the two-person export rule. Each step is one transaction with its audit record.

States (``ExportRequest.State``)::

    申請中 requested ──approve──▶ 承認済 approved ──run──▶ 出力済 completed
        │                                             └──▶ 失敗 failed
        ├──reject (another approver, with a reason)──▶ 却下 rejected
        ├──cancel (the requester)──▶ 取消 cancelled
        └──7 days without a decision──▶ 期限切れ expired

The approver must be another member of staff of the same municipality holding
``portability:export:approve`` (and ``registry:resident:export``: the export runs as them).
The export is written only to ``settings.EXPORT_DIR/<lg_code>/<YYYYmmddTHHMMSS>-<id>/``;
no caller ever supplies a path. It runs as a :mod:`lgcloud.core.jobs` job (state visible
to staff; a killed run is taken up again by ``lgcloud run_exports``), either during the
approval itself for a small town (``run_if_small``) or by the worker command.
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime, timedelta
from pathlib import Path

from django.conf import settings
from django.core.exceptions import ValidationError
from django.utils import timezone

from lgcloud.accounts.context import context_for
from lgcloud.accounts.models import Staff
from lgcloud.audit.actions import record as audit
from lgcloud.core import jobs
from lgcloud.core.problems import Problem, not_found
from lgcloud.core.tenancy import TenantContext, bound
from lgcloud.municipalities.queries import get_municipality
from lgcloud.portability.actions import ExportError, export_bundle
from lgcloud.portability.bundle import MANIFEST, sha256_of
from lgcloud.portability.models import ExportRequest
from lgcloud.registry import dump
from lgcloud.registry.permissions import RegistryPermission

from .access import APPROVE, REQUEST

logger = logging.getLogger(__name__)

EXPORT = RegistryPermission.RESIDENT_EXPORT
# Not approved within this time, a request lapses (申請から7日): an old, forgotten request
# must not become a live licence to copy the whole register.
EXPIRY = timedelta(days=7)
JOB_KIND = "portability.export"
PURPOSE_MAX = 500
State = ExportRequest.State


# --- problems (stable codes; Japanese for people) ---------------------------------------------


def _self_approval(
    detail: str = "自分が申請した全件出力は承認・却下できません。別の職員が承認してください。",
) -> Problem:
    return Problem(403, "export_self_approval", "申請者本人は承認できません", detail)


def _not_pending(req: ExportRequest) -> Problem:
    return Problem(
        409,
        "export_not_pending",
        "この申請は処理できません",
        f"この申請は「{req.get_state_display()}」です。申請中の申請だけを承認・却下・取消できます。",
    )


def _expired() -> Problem:
    return Problem(
        409,
        "export_expired",
        "承認期限を過ぎています",
        f"申請から{EXPIRY.days}日以内に承認されなかったため、この申請は期限切れになりました。改めて申請してください。",
    )


def _not_requester() -> Problem:
    return Problem(403, "export_not_requester", "取消できません", "申請を取り消せるのは申請者本人だけです。")


# --- helpers -------------------------------------------------------------------------------


def _now(now: datetime | None) -> datetime:
    return now or timezone.now()


def _locked(ctx: TenantContext, request_id: int) -> ExportRequest:
    """Inside bound(ctx): the request, row-locked; 404 for another municipality's (via Problem)."""
    found = ExportRequest.objects.select_for_update().filter(municipality_id=ctx.tenant_code, pk=request_id).first()
    if found is None:
        raise not_found()
    return found


def _audit(ctx: TenantContext, action: str, req: ExportRequest, fields: list[str]) -> None:
    audit(ctx, f"portability.export.{action}", subject_type="export_request", subject_id=req.pk, fields=fields)


def _lapse_if_due(ctx: TenantContext, req: ExportRequest, now: datetime) -> bool:
    """Mark a pending request past its deadline as expired (audited); inside the caller's transaction."""
    if req.state != State.REQUESTED or now < req.expires_at:
        return False
    req.state = State.EXPIRED
    req.decided_at = now
    req.save(update_fields=["state", "decided_at"])
    _audit(ctx, "expired", req, ["state"])
    return True


# --- the steps -------------------------------------------------------------------------------


def request_export(
    ctx: TenantContext, *, purpose: str, include_individual_numbers: bool, now: datetime | None = None
) -> ExportRequest:
    """申請: a member of staff holding ``portability:export:request`` asks for a full export."""
    ctx.require(REQUEST)
    if ctx.actor_id is None:
        raise Problem(403, "forbidden", "権限がありません", "全件出力は職員として申請してください。")
    purpose = (purpose or "").strip()
    if not purpose:
        raise ValidationError({"purpose": "出力の目的・理由を入力してください。"})
    if len(purpose) > PURPOSE_MAX:
        raise ValidationError({"purpose": f"{PURPOSE_MAX}文字以内で入力してください。"})
    at = _now(now)
    with bound(ctx):
        req = ExportRequest.objects.create(
            municipality_id=ctx.tenant_code,
            requester_id=ctx.actor_id,
            requester_name=ctx.actor_name,
            purpose=purpose,
            include_individual_numbers=include_individual_numbers,
            state=State.REQUESTED,
            requested_at=at,
            expires_at=at + EXPIRY,
        )
        _audit(ctx, "requested", req, ["purpose", "include_individual_numbers"])
    return req


def approve_export(ctx: TenantContext, request_id: int, *, now: datetime | None = None) -> ExportRequest:
    """承認 by another member of staff; the export itself runs next (``run_if_small`` or the worker)."""
    ctx.require(APPROVE)
    ctx.require(EXPORT)  # the export runs as the approver
    at = _now(now)
    with bound(ctx):
        req = _locked(ctx, request_id)
        if req.requester_id == ctx.actor_id:
            raise _self_approval()
        lapsed = _lapse_if_due(ctx, req, at)
        if not lapsed:
            if req.state != State.REQUESTED:
                raise _not_pending(req)
            req.state = State.APPROVED
            req.decided_by_id = ctx.actor_id
            req.decided_by_name = ctx.actor_name
            req.decided_at = at
            req.save(update_fields=["state", "decided_by_id", "decided_by_name", "decided_at"])
            _audit(ctx, "approved", req, ["state"])
    if lapsed:  # the expiry is committed; the approval is refused
        raise _expired()
    return req


def reject_export(ctx: TenantContext, request_id: int, *, reason: str, now: datetime | None = None) -> ExportRequest:
    """却下 by another member of staff holding the approval permission, with a reason."""
    ctx.require(APPROVE)
    reason = (reason or "").strip()
    if not reason:
        raise ValidationError({"reason": "却下の理由を入力してください。"})
    if len(reason) > PURPOSE_MAX:
        raise ValidationError({"reason": f"{PURPOSE_MAX}文字以内で入力してください。"})
    at = _now(now)
    with bound(ctx):
        req = _locked(ctx, request_id)
        if req.requester_id == ctx.actor_id:
            raise _self_approval("自分の申請は却下できません。不要になった申請は「取消」してください。")
        if req.state != State.REQUESTED:
            raise _not_pending(req)
        req.state = State.REJECTED
        req.decided_by_id = ctx.actor_id
        req.decided_by_name = ctx.actor_name
        req.decided_at = at
        req.decision_reason = reason
        req.save(update_fields=["state", "decided_by_id", "decided_by_name", "decided_at", "decision_reason"])
        _audit(ctx, "rejected", req, ["state", "decision_reason"])
    return req


def cancel_export(ctx: TenantContext, request_id: int, *, now: datetime | None = None) -> ExportRequest:
    """取消 by the requester, while the request is still pending."""
    ctx.require(REQUEST)
    at = _now(now)
    with bound(ctx):
        req = _locked(ctx, request_id)
        if req.requester_id != ctx.actor_id:
            raise _not_requester()
        if req.state != State.REQUESTED:
            raise _not_pending(req)
        req.state = State.CANCELLED
        req.decided_at = at
        req.save(update_fields=["state", "decided_at"])
        _audit(ctx, "cancelled", req, ["state"])
    return req


def expire_stale(ctx: TenantContext, *, now: datetime | None = None) -> int:
    """Mark every pending request of the municipality past its deadline as expired (each audited)."""
    at = _now(now)
    with bound(ctx):
        due = ExportRequest.objects.select_for_update().filter(
            municipality_id=ctx.tenant_code, state=State.REQUESTED, expires_at__lte=at
        )
        return sum(_lapse_if_due(ctx, req, at) for req in due)


# --- running the approved export -------------------------------------------------------------


def _bundle_folder(lg_code: str, request_id: int, started: datetime) -> str:
    """``<lg_code>/<YYYYmmddTHHMMSS>-<id>`` (UTC), relative to settings.EXPORT_DIR."""
    return f"{lg_code}/{started.astimezone(UTC).strftime('%Y%m%dT%H%M%S')}-{request_id}"


def _destination(relative: str) -> Path:
    root = Path(settings.EXPORT_DIR).resolve()
    target = (root / relative).resolve()
    if not target.is_relative_to(root) or target == root:  # defence in depth: the name is ours, never the user's
        raise ExportError("出力先が出力用フォルダの外になります。")
    return target


def _runner(ctx: TenantContext, req: ExportRequest) -> TenantContext | None:
    """The approver's own context, as of now: None when they left or lost the permission since approving."""
    if req.decided_by_id is None:
        return None
    staff = (
        Staff.objects.filter(municipality_id=ctx.tenant_code, pk=req.decided_by_id, is_active=True)
        .prefetch_related("role_assignments")
        .first()
    )
    if staff is None:
        return None
    runner = context_for(staff, purpose="portability.export", request_id=ctx.request_id)
    return runner if runner.has(APPROVE) and runner.has(EXPORT) else None


def _finish(ctx: TenantContext, req: ExportRequest, *, state: str, error: str = "", **values: object) -> ExportRequest:
    with bound(ctx):
        fresh = _locked(ctx, req.pk)
        fresh.state = state
        fresh.error = error[:500]
        fresh.finished_at = timezone.now()
        for name, value in values.items():
            setattr(fresh, name, value)
        fresh.save()
        _audit(ctx, "completed" if state == State.COMPLETED else "failed", fresh, ["state", *sorted(values)])
    return fresh


def run_export(ctx: TenantContext, request_id: int) -> ExportRequest:
    """Write the bundle of an approved request, as its approver, into the export directory.

    Call outside any transaction (the export reads one REPEATABLE READ snapshot on
    PostgreSQL). Does nothing for a request that is not approved or already written;
    raises :class:`lgcloud.core.jobs.JobBusy` while another process runs it. A failure is
    recorded on the request (失敗, a Japanese message without personal data) and audited.
    """
    if not (ctx.has(APPROVE) or ctx.is_system):
        ctx.require(APPROVE)
    with bound(ctx):
        req = _locked(ctx, request_id)
        if req.state != State.APPROVED:
            return req
        runner = _runner(ctx, req)
    if runner is None:
        return _finish(
            ctx, req, state=State.FAILED, error="承認者が無効になったか、出力の権限がなくなったため出力しませんでした。"
        )
    handle = jobs.open_job(
        runner,
        kind=JOB_KIND,
        key=str(req.pk),
        permission=REQUEST,
        label=f"住民記録の全件出力（申請 {req.pk}）",
        params={"request": req.pk, "individual_numbers": req.include_individual_numbers},
    )
    if handle.already_done:
        with bound(ctx):
            return _locked(ctx, req.pk)
    started = timezone.now()
    relative = _bundle_folder(runner.tenant_code, req.pk, started)
    with bound(runner):
        ExportRequest.objects.filter(pk=req.pk).update(job_id=handle.job.pk, started_at=started)
    municipality = get_municipality(runner.tenant_code)
    try:
        result = export_bundle(
            runner,
            _destination(relative),
            municipality_name=municipality.name if municipality else runner.tenant_code,
            individual_numbers=req.include_individual_numbers,
            generator=f"lgcloud (全件出力の申請 {req.pk})",
        )
    except Exception as exc:  # noqa: BLE001 — any failure must end as 失敗 on the request, never as a stuck 承認済
        # Only the kind of error reaches the log and the record: messages from lower down may quote data.
        logger.error("export of request %s failed: %s", req.pk, type(exc).__name__)
        if isinstance(exc, ExportError):
            message = f"出力に失敗しました: {exc}"
        elif isinstance(exc, OSError):
            message = "出力用フォルダへ書き込めませんでした（容量・権限を確認してください）。"
        else:
            message = f"出力中にエラーが発生しました（{type(exc).__name__}）。運用者に連絡してください。"
        jobs.fail_job(runner, handle, type(exc).__name__)
        return _finish(runner, req, state=State.FAILED, error=message)
    files = [{"entity": f.entity, "file": f.file, "rows": f.rows, "sha256": f.sha256} for f in result.files]
    done = _finish(
        runner,
        req,
        state=State.COMPLETED,
        bundle=relative,
        files=files,
        manifest_sha256=sha256_of(result.directory / MANIFEST),
    )
    jobs.finish_job(runner, handle, {"bundle": relative, "rows": {f["entity"]: f["rows"] for f in files}})
    return done


def run_if_small(ctx: TenantContext, request_id: int) -> bool:
    """Run the export now when the town has at most ``settings.EXPORT_SYNC_MAX_PERSONS`` residents.

    Larger towns are left approved for ``lgcloud run_exports`` (a page request must not
    hold a worker for minutes). Returns whether it ran.
    """
    with bound(ctx):
        persons = dump.counts(ctx)["person"]
    if persons > settings.EXPORT_SYNC_MAX_PERSONS:
        return False
    try:
        run_export(ctx, request_id)
    except jobs.JobBusy:
        return False
    return True


def run_approved(ctx: TenantContext, *, now: datetime | None = None) -> list[ExportRequest]:
    """The worker's pass over one municipality: lapse stale requests, then run every approved export."""
    expire_stale(ctx, now=now)
    with bound(ctx):
        waiting = list(
            ExportRequest.objects.filter(municipality_id=ctx.tenant_code, state=State.APPROVED)
            .order_by("decided_at", "pk")
            .values_list("pk", flat=True)
        )
    ran = []
    for pk in waiting:
        try:
            ran.append(run_export(ctx, pk))
        except jobs.JobBusy:
            continue
    return ran
