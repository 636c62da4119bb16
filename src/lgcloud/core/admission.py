"""Per-municipality admission control: one municipality's surge must not take every worker thread.

``LGCLOUD_TENANT_MAX_INFLIGHT`` (0: off) caps the requests of one municipality that a
worker process runs at the same time. A request over the cap is answered at once
with 429 ``tenant_busy`` (``Retry-After: 1``) instead of waiting in the server's queue
in front of every other municipality's requests. With W worker processes of T
threads, one municipality holds at most W × cap of the W × T threads; the rest stay
free for the others (bench/README.md, noisy-neighbour run).
"""

from __future__ import annotations

import re
import threading
from collections import defaultdict
from collections.abc import Callable

from django.conf import settings
from django.http import HttpRequest, HttpResponse, JsonResponse

from lgcloud.core.problems import PROBLEM_CONTENT_TYPE, Problem

_API_TENANT = re.compile(r"^/api/v1/municipalities/(\d{6})/")


def tenant_busy() -> Problem:
    return Problem(
        429,
        "tenant_busy",
        "この団体からの要求が混み合っています",
        "同時に処理できる数を超えました。少し待ってから再度お試しください。",
    )


class TenantAdmissionMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response
        self.inflight: dict[str, int] = defaultdict(int)
        self.lock = threading.Lock()

    def __call__(self, request: HttpRequest) -> HttpResponse:
        cap = int(getattr(settings, "TENANT_MAX_INFLIGHT", 0))
        lg_code = self._tenant(request) if cap > 0 else None
        if lg_code is None:
            return self.get_response(request)
        with self.lock:
            if self.inflight[lg_code] >= cap:
                return self._refuse(request)
            self.inflight[lg_code] += 1
        try:
            return self.get_response(request)
        finally:
            with self.lock:
                self.inflight[lg_code] -= 1

    @staticmethod
    def _tenant(request: HttpRequest) -> str | None:
        found = _API_TENANT.match(request.path)
        if found:
            return found.group(1)
        ctx = getattr(request, "tenant_ctx", None)
        lg_code = getattr(ctx, "lg_code", None)
        return str(lg_code) if lg_code else None

    @staticmethod
    def _refuse(request: HttpRequest) -> HttpResponse:
        problem = tenant_busy()
        response: HttpResponse = JsonResponse(
            problem.body(instance=request.path),
            status=429,
            content_type=PROBLEM_CONTENT_TYPE,
            json_dumps_params={"ensure_ascii": False},
        )
        response["Retry-After"] = "1"
        return response
