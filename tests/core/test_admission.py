"""Per-municipality admission control: over the cap a municipality gets 429 at once; others are unaffected."""

from __future__ import annotations

import json
import threading

from django.http import HttpRequest, HttpResponse
from django.test import RequestFactory, override_settings

from lgcloud.core.admission import TenantAdmissionMiddleware


def _blocking_app() -> tuple[TenantAdmissionMiddleware, threading.Event, threading.Event]:
    entered, release = threading.Event(), threading.Event()

    def app(request: HttpRequest) -> HttpResponse:
        if request.path.startswith("/api/v1/municipalities/131016/"):
            entered.set()
            release.wait(10)
        return HttpResponse("ok")

    return TenantAdmissionMiddleware(app), entered, release


@override_settings(TENANT_MAX_INFLIGHT=1)
def test_a_municipality_over_its_cap_is_refused_at_once_and_others_go_on() -> None:
    middleware, entered, release = _blocking_app()
    rf = RequestFactory()
    first: list[HttpResponse] = []
    worker = threading.Thread(target=lambda: first.append(middleware(rf.get("/api/v1/municipalities/131016/persons"))))
    worker.start()
    assert entered.wait(10)
    busy = middleware(rf.post("/api/v1/municipalities/131016/changes/birth"))
    assert busy.status_code == 429
    assert busy["Content-Type"] == "application/problem+json"
    assert busy["Retry-After"] == "1"
    assert json.loads(busy.content)["code"] == "tenant_busy"
    # Another municipality, and paths outside any municipality, are not held back.
    assert middleware(rf.get("/api/v1/municipalities/131041/persons")).status_code == 200
    assert middleware(rf.get("/healthz")).status_code == 200
    release.set()
    worker.join(10)
    assert first[0].status_code == 200
    # The slot is free again once the first request is done.
    release.clear()
    entered.clear()
    release.set()
    assert middleware(rf.get("/api/v1/municipalities/131016/persons")).status_code == 200
