"""Usage metering on the request path: per municipality, 業務 and day, for the cost of a few dict updates.

Each request adds to an in-memory tally of its worker process (no database write on the
request path) and appends one raw record (a JSON line: request id, municipality, 業務, kind,
status, CPU and wall microseconds; no path, no personal data) to a per-process file. A
background thread flushes the tally every ``LGCLOUD_USAGE_FLUSH_SECONDS`` into
:class:`~lgcloud.ops.models.UsageDay` (one upsert per municipality, inside that
municipality's tenant block, so two municipalities' numbers never share a row) and flushes
the raw file. ``lgcloud usage_rebuild`` recomputes any day's request meters from the raw
records (docs/metering.md).

Which municipality: the signed-in member of staff's; otherwise the first tenant block the
request opened (core.usage). Which 業務: the installed app whose package holds the view's
code (pages and API alike); everything else is ``platform``.
"""

from __future__ import annotations

import atexit
import json
import logging
import os
import socket
import threading
import time
from collections import defaultdict
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from datetime import UTC as _UTC
from datetime import date, datetime
from functools import cache
from pathlib import Path
from typing import IO, Any

from django.conf import settings
from django.db import close_old_connections
from django.http import HttpRequest, HttpResponse
from django.urls import ResolverMatch
from django.utils import timezone

from lgcloud.contract.discovery import installed
from lgcloud.core import usage as attribution
from lgcloud.core.tenancy import TenantContext

from .metrics import TENANT_CPU, TENANT_LATENCY, TENANT_REQUESTS, municipality_label
from .models import PLATFORM

logger = logging.getLogger(__name__)

# Latency buckets of the service view (upper bounds in milliseconds; the last is +Inf).
LATENCY_BUCKETS_MS = (50, 100, 200, 300, 500, 750, 1000, 1500, 2000, 3000, 5000)
REQUEST_KINDS = ("page_read", "page_write", "api_read", "api_write")
READ_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
# Plumbing that works for nobody: not metered.
UNMETERED_PREFIXES = ("/static/", "/healthz", "/metrics")

Key = tuple[str | None, date, str, str]  # (lg_code or None for the platform, day, 業務, meter)


def bucket_meter(elapsed_ms: float) -> str:
    for upper in LATENCY_BUCKETS_MS:
        if elapsed_ms <= upper:
            return f"latency.le_{upper}"
    return "latency.le_inf"


def request_meters(kind: str, status: int, cpu_us: int, wall_us: int) -> list[tuple[str, int]]:
    """What one request adds (the tally and ``usage_rebuild`` from raw records use the same)."""
    meters = [(f"requests.{kind}", 1), ("cpu_us", cpu_us), ("wall_us", wall_us), (bucket_meter(wall_us / 1000), 1)]
    if status >= 500:
        meters.append(("status.5xx", 1))
    elif status >= 400:
        meters.append(("status.4xx", 1))
    if status in (429, 503):
        meters.append((f"status.{status}", 1))
    return meters


# --- which 業務 -----------------------------------------------------------------------------


@cache
def _packages() -> tuple[tuple[str, str], ...]:
    """(package prefix, 業務 code) of every installed app, longest prefix first."""
    pairs = [(m.django_app + ".", m.gyomu or PLATFORM) for m in installed().values()]
    return tuple(sorted(pairs, key=lambda p: -len(p[0])))


def _view_module(func: Callable[..., Any]) -> str:
    module = getattr(func, "__module__", "") or ""
    if module.startswith("ninja."):
        # django-ninja's view wraps the path's operations: the code is the operation's.
        for cell in getattr(func, "__closure__", None) or ():
            operations = getattr(cell.cell_contents, "operations", None)
            if operations:
                return str(operations[0].view_func.__module__)
    return module


_route_gyomu: dict[str, str] = {}


def gyomu_of(match: ResolverMatch | None) -> str:
    """The 業務 a request belongs to: the app whose package holds its view, else ``platform``."""
    if match is None:
        return PLATFORM
    key = match.route or match.view_name or ""
    found = _route_gyomu.get(key)
    if found is None:
        module = _view_module(match.func)
        found = next((g for prefix, g in _packages() if module.startswith(prefix)), PLATFORM)
        _route_gyomu[key] = found
    return found


def request_kind(request: HttpRequest) -> str:
    api = request.path.startswith("/api/")
    read = request.method in READ_METHODS
    return f"{'api' if api else 'page'}_{'read' if read else 'write'}"


# --- the day a request is booked on ---------------------------------------------------------

_booked_on: ContextVar[date | None] = ContextVar("lgcloud_usage_booked_on", default=None)


@contextmanager
def booked_on(day: date) -> Iterator[None]:
    """Book what runs in the block on ``day`` (the demo's month of use replays past days)."""
    token = _booked_on.set(day)
    try:
        yield
    finally:
        _booked_on.reset(token)


def today() -> date:
    return _booked_on.get() or timezone.localdate()


# --- the per-process tally ------------------------------------------------------------------


class Tally:
    """Counters of this worker process, flushed to the database in the background."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._pending: defaultdict[Key, int] = defaultdict(int)
        self._raw: IO[str] | None = None
        self._raw_day: date | None = None
        self._thread: threading.Thread | None = None

    # recording (the request path) ----------------------------------------------------------
    def add(self, lg_code: str | None, day: date, gyomu: str, meter: str, quantity: int) -> None:
        with self._lock:
            self._pending[(lg_code, day, gyomu, meter)] += quantity
        self._ensure_flusher()

    def request(
        self,
        *,
        lg_code: str | None,
        gyomu: str,
        kind: str,
        status: int,
        cpu_ns: int,
        wall_ns: int,
        request_id: str,
        route: str,
    ) -> None:
        day = today()
        cpu_us, wall_us = cpu_ns // 1000, wall_ns // 1000
        meters = request_meters(kind, status, cpu_us, wall_us)
        line = json.dumps(
            {
                "t": datetime.now(_UTC).isoformat(timespec="milliseconds"),
                "day": day.isoformat(),
                "rid": request_id,
                "lg": lg_code or "",
                "g": gyomu,
                "k": kind,
                "s": status,
                "cpu_us": cpu_us,
                "wall_us": wall_us,
                "route": route,
            },
            separators=(",", ":"),
        )
        with self._lock:
            for meter, quantity in meters:
                self._pending[(lg_code, day, gyomu, meter)] += quantity
            self._write_raw(day, line)
        label = municipality_label(lg_code)
        TENANT_REQUESTS.labels(label, gyomu, _status_class(status)).inc()
        TENANT_CPU.labels(label, gyomu).inc(cpu_ns / 1e9)
        TENANT_LATENCY.labels(gyomu).observe(wall_ns / 1e9)
        self._ensure_flusher()

    def _write_raw(self, day: date, line: str) -> None:
        directory = settings.USAGE_LOG_DIR
        if not directory:
            return
        if self._raw is None or self._raw_day != day:
            if self._raw is not None:
                self._raw.close()
            folder = Path(directory) / day.isoformat()
            folder.mkdir(parents=True, exist_ok=True)
            self._raw = open(folder / f"{socket.gethostname()}-{os.getpid()}.jsonl", "a", encoding="utf-8")  # noqa: SIM115
            self._raw_day = day
        self._raw.write(line + "\n")

    # flushing ------------------------------------------------------------------------------
    def drain(self) -> dict[Key, int]:
        with self._lock:
            pending, self._pending = dict(self._pending), defaultdict(int)
            if self._raw is not None:
                self._raw.flush()
        return pending

    def restore(self, pending: dict[Key, int]) -> None:
        """Put back what a failed flush could not write, so the next flush tries again."""
        with self._lock:
            for key, quantity in pending.items():
                self._pending[key] += quantity

    def close_raw(self) -> None:
        with self._lock:
            if self._raw is not None:
                self._raw.close()
                self._raw, self._raw_day = None, None

    def _ensure_flusher(self) -> None:
        interval = settings.USAGE_FLUSH_SECONDS
        if interval <= 0 or (self._thread is not None and self._thread.is_alive()):
            return
        with self._lock:
            if self._thread is not None and self._thread.is_alive():
                return
            self._thread = threading.Thread(target=self._loop, args=(interval,), name="usage-flush", daemon=True)
            self._thread.start()

    def _loop(self, interval: float) -> None:
        while True:
            time.sleep(interval)
            try:
                flush()
            except Exception:
                logger.exception("usage flush failed; will retry")
            finally:
                close_old_connections()


def _status_class(status: int) -> str:
    if status in (429, 503):
        return str(status)
    return f"{status // 100}xx"


TALLY = Tally()


REQUEST_METER_PREFIXES = ("requests.", "cpu_us", "wall_us", "latency.", "status.")


def read_raw(day: date, directory: str | None = None) -> dict[tuple[str | None, str, str], int]:
    """The request meters of ``day`` recomputed from every worker's raw records: (lg_code, 業務, meter) → quantity."""
    folder = Path(directory or settings.USAGE_LOG_DIR) / day.isoformat()
    totals: defaultdict[tuple[str | None, str, str], int] = defaultdict(int)
    for path in sorted(folder.glob("*.jsonl")) if folder.is_dir() else []:
        with path.open(encoding="utf-8") as lines:
            for line in lines:
                if not line.strip():
                    continue
                r = json.loads(line)
                if r["day"] != day.isoformat():
                    continue
                for meter, quantity in request_meters(r["k"], int(r["s"]), int(r["cpu_us"]), int(r["wall_us"])):
                    totals[(r["lg"] or None, r["g"], meter)] += quantity
    return dict(totals)


def flush() -> int:
    """Write the tally to the database; returns the number of rows touched."""
    from .actions import add_usage  # the write lives with the other actions

    pending = TALLY.drain()
    if not pending:
        return 0
    try:
        return add_usage(TenantContext.system(None, purpose="ops.metering", actor_name="metering"), pending)
    except Exception:
        TALLY.restore(pending)
        raise


def _flush_at_exit() -> None:
    if settings.USAGE_FLUSH_SECONDS <= 0:
        return  # flushing was left to the caller (commands, tests): nothing runs behind its back
    try:
        flush()
    except Exception:
        logger.exception("usage flush at exit failed")
    TALLY.close_raw()


atexit.register(_flush_at_exit)


# --- the middleware --------------------------------------------------------------------------


class MeteringMiddleware:
    """Outermost: times the whole request (CPU of this thread and wall clock) and books it."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if request.path.startswith(UNMETERED_PREFIXES):
            return self.get_response(request)
        cpu0, wall0 = time.thread_time_ns(), time.perf_counter_ns()
        noted, token = attribution.begin()
        try:
            response = self.get_response(request)
        finally:
            attribution.end(token)
        ctx = getattr(request, "tenant_ctx", None)
        # Signed-in staff work for their municipality (the operator for the platform), whatever
        # tenant blocks their pages open; anyone else for the first municipality the request reached.
        lg_code = ctx.lg_code if ctx is not None else noted.lg_code
        match = getattr(request, "resolver_match", None)
        TALLY.request(
            lg_code=lg_code,
            gyomu=gyomu_of(match),
            kind=request_kind(request),
            status=response.status_code,
            cpu_ns=time.thread_time_ns() - cpu0,
            wall_ns=time.perf_counter_ns() - wall0,
            request_id=getattr(request, "request_id", ""),
            route=(match.view_name if match is not None else "") or "unmatched",
        )
        return response
