"""Request ids: one per request, in every log line, audit record and error body."""

from __future__ import annotations

import logging
import re
import uuid
from collections.abc import Callable
from contextvars import ContextVar
from typing import Any

from django.http import HttpRequest, HttpResponse

_request_id: ContextVar[str] = ContextVar("lgcloud_request_id", default="-")
_request_cache: ContextVar[dict[Any, Any] | None] = ContextVar("lgcloud_request_cache", default=None)
_municipality: ContextVar[str | None] = ContextVar("lgcloud_request_municipality", default=None)
_VALID_ID = re.compile(r"[A-Za-z0-9._-]{8,64}")


def current_request_id() -> str:
    return _request_id.get()


def request_cache() -> dict[Any, Any] | None:
    """A dict that lives as long as the current request (None outside a request): look-ups made
    several times per request (the municipality's chosen apps) are made once."""
    return _request_cache.get()


def current_municipality() -> str | None:
    """The municipality of the signed-in member of staff (or resident) of the current request, if any.

    Set by the middleware that authenticates the request, before URLs are resolved: the pages of a
    業務 resolve against the implementation this municipality chose.
    """
    return _municipality.get()


def set_current_municipality(lg_code: str | None) -> None:
    """Called by the authenticating middleware; reset with the request by :class:`RequestIdMiddleware`."""
    _municipality.set(lg_code)


class RequestIdMiddleware:
    """Take a well-formed ``X-Request-ID`` from the proxy, or make one."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        incoming = request.headers.get("X-Request-ID", "")
        request_id = incoming if _VALID_ID.fullmatch(incoming) else uuid.uuid4().hex
        request.request_id = request_id  # type: ignore[attr-defined]
        token = _request_id.set(request_id)
        cache = _request_cache.set({})
        municipality = _municipality.set(None)
        try:
            response = self.get_response(request)
        finally:
            _municipality.reset(municipality)
            _request_cache.reset(cache)
            _request_id.reset(token)
        response["X-Request-ID"] = request_id
        return response


class RequestIdLogFilter(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        record.request_id = current_request_id()
        return True
