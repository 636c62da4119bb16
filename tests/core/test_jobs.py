"""Batch jobs: counts commit with the work, reruns resume after the checkpoint, dry runs write nothing."""

from __future__ import annotations

from collections.abc import Sequence

import pytest
from django.http import Http404

from lgcloud.core import jobs
from lgcloud.core.models import Job, TenantSequence
from lgcloud.core.permissions import Role
from lgcloud.core.tenancy import TenantContext

from ..conftest import CHIYODA, SHINJUKU

ITEMS = [f"{i:04d}" for i in range(10)]


def _ctx(code: str = CHIYODA) -> TenantContext:
    return TenantContext.system(code, purpose="test")


def _work(fail_on: str | None = None):  # type: ignore[no-untyped-def]
    """Write one TenantSequence row per item (a stand-in for an app's per-item rows with a unique key)."""

    def work(chunk: Sequence[str]) -> jobs.ChunkOutcome:
        out = jobs.ChunkOutcome()
        for item in chunk:
            if item == fail_on:
                raise RuntimeError("boom")
            _, created = TenantSequence.objects.get_or_create(municipality_id=CHIYODA, name=f"item-{item}")
            if created:
                out.done += 1
            else:
                out.skipped += 1
        return out

    return work


def _run(handle: jobs.JobHandle, fail_on: str | None = None) -> Job:
    todo = [i for i in ITEMS if i > handle.checkpoint]
    return jobs.run_chunks(_ctx(), handle, jobs.chunked(todo, 3), _work(fail_on), item_key=lambda i: i)


def _items() -> set[str]:
    return set(TenantSequence.objects.filter(name__startswith="item-").values_list("name", flat=True))


@pytest.mark.django_db
def test_a_failed_run_keeps_committed_chunks_and_a_rerun_resumes_after_the_checkpoint(tokyo: list[str]) -> None:
    handle = jobs.open_job(_ctx(), kind="test.batch", key="k1", permission="tax:assessment:read", total=10)
    with pytest.raises(RuntimeError):
        _run(handle, fail_on="0007")
    job = Job.objects.get(pk=handle.job.pk)
    # Chunks 0000-0002 and 0003-0005 committed; the chunk holding 0007 rolled back with its counts.
    assert (job.state, job.done, job.checkpoint) == (Job.State.FAILED, 6, "0005")
    assert _items() == {f"item-{i}" for i in ITEMS[:6]}
    assert job.errors == [{"item": "-", "code": "RuntimeError"}]

    again = jobs.open_job(_ctx(), kind="test.batch", key="k1", permission="tax:assessment:read")
    assert not again.already_done and again.checkpoint == "0005" and again.job.attempts == 2
    _run(again)
    done = jobs.finish_job(_ctx(), again, {"written": 10})
    assert (done.state, done.done, done.skipped) == (Job.State.SUCCEEDED, 10, 0)
    assert _items() == {f"item-{i}" for i in ITEMS}

    # A third run finds it finished and does nothing.
    third = jobs.open_job(_ctx(), kind="test.batch", key="k1", permission="tax:assessment:read")
    assert third.already_done


@pytest.mark.django_db
def test_a_lost_checkpoint_still_writes_no_item_twice(tokyo: list[str]) -> None:
    first = jobs.open_job(_ctx(), kind="test.batch", key="k2", permission="tax:assessment:read")
    with pytest.raises(RuntimeError):
        _run(first, fail_on="0004")
    Job.objects.filter(pk=first.job.pk).update(checkpoint="")  # as if the checkpoint were lost
    again = jobs.open_job(_ctx(), kind="test.batch", key="k2", permission="tax:assessment:read")
    job = _run(again)
    assert (job.done, job.skipped) == (10, 3)  # the first chunk was found done and skipped
    assert len(_items()) == 10


@pytest.mark.django_db
def test_dry_run_counts_but_writes_nothing_and_does_not_block_the_real_run(tokyo: list[str]) -> None:
    dry = jobs.open_job(_ctx(), kind="test.batch", key="k3", permission="tax:assessment:read", dry_run=True)
    job = _run(dry)
    jobs.finish_job(_ctx(), dry)
    assert job.done == 10 and _items() == set()
    real = jobs.open_job(_ctx(), kind="test.batch", key="k3", permission="tax:assessment:read")
    assert not real.already_done and not real.dry_run


@pytest.mark.django_db
def test_a_job_running_in_a_live_process_is_busy_and_a_killed_one_resumes(tokyo: list[str]) -> None:
    handle = jobs.open_job(_ctx(), kind="test.batch", key="k4", permission="tax:assessment:read")
    with pytest.raises(jobs.JobBusy):  # this very process is alive
        jobs.open_job(_ctx(), kind="test.batch", key="k4", permission="tax:assessment:read")
    # The process died (kill -9): a pid that does not exist on this host.
    Job.objects.filter(pk=handle.job.pk).update(pid=2**22 + 12345)
    again = jobs.open_job(_ctx(), kind="test.batch", key="k4", permission="tax:assessment:read")
    assert again.job.state == Job.State.RUNNING and again.job.attempts == 2


@pytest.mark.django_db
def test_staff_see_only_their_apps_jobs_and_only_their_municipalitys(tokyo: list[str]) -> None:
    tax = jobs.open_job(_ctx(), kind="tax.x", key="a", permission="tax:assessment:read").job
    benefit = jobs.open_job(_ctx(), kind="benefits.x", key="a", permission="benefits:case:read").job
    other = jobs.open_job(_ctx(SHINJUKU), kind="tax.x", key="a", permission="tax:assessment:read").job
    clerk = TenantContext(CHIYODA, 1, "税務", frozenset({Role.TAX_CLERK}), "test")
    assert [j.pk for j in jobs.list_jobs(clerk)] == [tax.pk]
    assert jobs.get_job(clerk, tax.pk).pk == tax.pk
    for hidden in (benefit.pk, other.pk):
        with pytest.raises(Http404):
            jobs.get_job(clerk, hidden)
