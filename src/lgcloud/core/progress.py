"""A tqdm progress bar for a batch job in the CLI (the staff page shows the same counts)."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import TextIO

from tqdm import tqdm

from lgcloud.core.models import Job


@contextmanager
def job_progress(label: str, *, file: TextIO | None = None, disable: bool = False) -> Iterator[Callable[[Job], None]]:
    """An ``on_progress`` callback for ``core.jobs.run_chunks`` that draws a bar of done + skipped / total."""
    bar = tqdm(desc=label, unit="件", file=file, disable=disable, dynamic_ncols=True)

    def update(job: Job) -> None:
        if job.total is not None and bar.total != job.total:
            bar.total = job.total
        bar.n = job.done + job.skipped
        bar.refresh()

    try:
        yield update
    finally:
        bar.close()


def job_summary(job: Job) -> str:
    """One line for the end of a command: the job, its state and counts (no personal data)."""
    dry = "（試行: 書き込みなし）" if job.dry_run else ""
    return (
        f"ジョブ {job.pk} {job.label or job.kind}{dry}: {job.get_state_display()} "
        f"処理 {job.done:,} 件・省略 {job.skipped:,} 件・エラー {job.failed:,} 件"
    )
