"""Batch jobs: resumable, idempotent runs that staff can see (state, counts, errors).

A batch (賦課計算, 給付対象者の抽出, 振込ファイルの作成 …) opens a :class:`~lgcloud.core.models.Job`
keyed by ``(municipality, kind, key)`` and works through its items in chunks. Each chunk
commits in one transaction together with the job's counts and checkpoint, so after a
crash (even ``kill -9``) the counts on the job are exactly what was committed, and a rerun
of the same batch resumes after the checkpoint. The apps' own unique constraints (one
assessment per taxpayer and year, one payment per household and programme) make a
repeated item impossible even if a checkpoint were lost: the work function counts what
already exists as ``skipped``.

``dry_run`` runs the same work but rolls each chunk back; the job (its own key) keeps the
counts, so staff see what a real run would do.
"""

from __future__ import annotations

import os
import socket
import uuid
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import timedelta
from itertools import islice
from typing import Any, TypeVar

from django.db import transaction
from django.db.models import F, Q
from django.http import Http404
from django.utils import timezone

from lgcloud.core.models import Job
from lgcloud.core.tenancy import TenantContext, bound

T = TypeVar("T")
MAX_ERRORS = 100
STALE_AFTER = timedelta(minutes=5)


class JobBusy(Exception):
    """The same batch is running in another live process."""


@dataclass
class ChunkOutcome:
    """What one chunk did: items written, items found already done, and item errors (id, code)."""

    done: int = 0
    skipped: int = 0
    errors: list[tuple[str, str]] = field(default_factory=list)


@dataclass
class JobHandle:
    job: Job
    already_done: bool  # the batch had finished before: nothing to do

    @property
    def checkpoint(self) -> str:
        return self.job.checkpoint

    @property
    def dry_run(self) -> bool:
        return self.job.dry_run


def _pid_alive(pid: int | None) -> bool:
    if pid is None:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _abandoned(job: Job) -> bool:
    """A RUNNING job whose process is gone (killed) or has not reported for a long time."""
    if job.host == socket.gethostname() and not _pid_alive(job.pid):
        return True
    return job.heartbeat_at is None or timezone.now() - job.heartbeat_at > STALE_AFTER


def open_job(
    ctx: TenantContext,
    *,
    kind: str,
    key: str,
    permission: str,
    label: str = "",
    params: dict[str, Any] | None = None,
    total: int | None = None,
    dry_run: bool = False,
) -> JobHandle:
    """Start the batch ``kind``/``key``, or resume it, or report that it has finished.

    Raises :class:`JobBusy` when it is running in a live process.
    """
    if dry_run:
        key = f"{key}#dry-run-{uuid.uuid4().hex[:12]}"
    now = timezone.now()
    with bound(ctx):
        Job.objects.bulk_create(
            [
                Job(
                    municipality_id=ctx.tenant_code,
                    kind=kind,
                    key=key,
                    label=label,
                    permission=permission,
                    dry_run=dry_run,
                    params=params or {},
                    actor_name=ctx.actor_name,
                    state=Job.State.INTERRUPTED,  # becomes RUNNING below, under the row lock
                )
            ],
            ignore_conflicts=True,
        )
        job = Job.objects.select_for_update().get(municipality_id=ctx.tenant_code, kind=kind, key=key)
        if job.state == Job.State.SUCCEEDED:
            return JobHandle(job, already_done=True)
        if job.state == Job.State.RUNNING and not _abandoned(job):
            raise JobBusy(f"{job.label or kind} は実行中です（ジョブ {job.pk}）。")
        job.state = Job.State.RUNNING
        job.attempts += 1
        job.host = socket.gethostname()
        job.pid = os.getpid()
        job.started_at = job.started_at or now
        job.heartbeat_at = now
        job.finished_at = None
        if total is not None:
            job.total = total
        job.save()
    return JobHandle(job, already_done=False)


def chunked(items: Iterable[T], size: int) -> Iterator[list[T]]:
    iterator = iter(items)
    while chunk := list(islice(iterator, size)):
        yield chunk


def run_chunks(
    ctx: TenantContext,
    handle: JobHandle,
    chunks: Iterable[Sequence[T]],
    work: Callable[[Sequence[T]], ChunkOutcome],
    *,
    item_key: Callable[[T], str],
    on_progress: Callable[[Job], None] | None = None,
) -> Job:
    """Run ``work`` on each chunk, each in one transaction with the job's counts and checkpoint.

    A chunk that raises is rolled back (with its counts); the job is then FAILED (or
    INTERRUPTED on Ctrl-C) and the exception propagates. Items of a chunk must come in
    ``item_key`` order, so the checkpoint is the last key committed.
    """
    job = handle.job
    try:
        for chunk in chunks:
            if not chunk:
                continue
            with bound(ctx):
                if handle.dry_run:
                    with transaction.atomic():
                        outcome = work(chunk)
                        transaction.set_rollback(True)
                else:
                    outcome = work(chunk)
                _record(job, outcome, item_key(chunk[-1]))
            if on_progress is not None:
                on_progress(job)
    except KeyboardInterrupt:
        _end(ctx, job, Job.State.INTERRUPTED, error=("-", "interrupted"))
        raise
    except Exception as exc:
        _end(ctx, job, Job.State.FAILED, error=("-", type(exc).__name__))
        raise
    return job


def _record(job: Job, outcome: ChunkOutcome, checkpoint: str) -> None:
    """Add a chunk's counts to the job, inside the chunk's transaction."""
    errors = [{"item": item, "code": code} for item, code in outcome.errors]
    room = max(0, MAX_ERRORS - len(job.errors))
    Job.objects.filter(pk=job.pk).update(
        done=F("done") + outcome.done,
        skipped=F("skipped") + outcome.skipped,
        failed=F("failed") + len(outcome.errors),
        checkpoint=checkpoint,
        heartbeat_at=timezone.now(),
        **({"errors": job.errors + errors[:room]} if errors and room else {}),
    )
    job.done += outcome.done
    job.skipped += outcome.skipped
    job.failed += len(outcome.errors)
    job.checkpoint = checkpoint
    if errors and room:
        job.errors = job.errors + errors[:room]


def _end(ctx: TenantContext, job: Job, state: str, *, error: tuple[str, str] | None = None) -> None:
    with bound(ctx):
        fresh = Job.objects.get(pk=job.pk)
        fresh.state = state
        fresh.finished_at = timezone.now()
        fresh.heartbeat_at = fresh.finished_at
        if error is not None and len(fresh.errors) < MAX_ERRORS:
            fresh.errors = [*fresh.errors, {"item": error[0], "code": error[1]}]
        fresh.save(update_fields=["state", "finished_at", "heartbeat_at", "errors"])
    job.state, job.finished_at, job.errors = fresh.state, fresh.finished_at, fresh.errors


def finish_job(ctx: TenantContext, handle: JobHandle, result: dict[str, Any] | None = None) -> Job:
    """Mark the batch finished with its result (a dry run ends the same way, having written nothing)."""
    job = handle.job
    with bound(ctx):
        fresh = Job.objects.get(pk=job.pk)
        fresh.state = Job.State.SUCCEEDED
        fresh.finished_at = fresh.heartbeat_at = timezone.now()
        fresh.result = {**fresh.result, **(result or {})}
        if job.total is not None:
            fresh.total = job.total
        fresh.save()
    handle.job = fresh
    return fresh


def set_total(ctx: TenantContext, handle: JobHandle, total: int) -> None:
    with bound(ctx):
        Job.objects.filter(pk=handle.job.pk).update(total=total)
    handle.job.total = total


def fail_job(ctx: TenantContext, handle: JobHandle, code: str) -> Job:
    """End the batch as failed with a stable error code (no personal data)."""
    _end(ctx, handle.job, Job.State.FAILED, error=("-", code))
    return handle.job


# --- reads for the staff pages ----------------------------------------------------------------


def _visible(ctx: TenantContext) -> Q:
    if ctx.is_system:
        return Q()
    return Q(permission__in=sorted(ctx.permissions))


def list_jobs(ctx: TenantContext, *, limit: int = 100) -> list[Job]:
    """The municipality's latest jobs that ``ctx`` may see (those of its apps), newest first."""
    with bound(ctx):
        return list(
            Job.objects.filter(_visible(ctx), municipality_id=ctx.tenant_code).order_by("-created_at", "-id")[:limit]
        )


def get_job(ctx: TenantContext, job_id: int) -> Job:
    """One job; "not found" both when it does not exist and when ``ctx`` may not see it."""
    with bound(ctx):
        job = Job.objects.filter(_visible(ctx), municipality_id=ctx.tenant_code, pk=job_id).first()
    if job is None:
        raise Http404("ジョブが見つかりません。")
    return job
