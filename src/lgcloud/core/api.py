"""The NinjaAPI instance's shared parts: problem+json handlers and authentication."""

from __future__ import annotations

from typing import Any

from django.core.exceptions import PermissionDenied
from django.core.exceptions import ValidationError as DjangoValidationError
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from ninja import NinjaAPI
from ninja.errors import AuthenticationError, HttpError
from ninja.errors import ValidationError as NinjaValidationError

from lgcloud.core.middleware import current_request_id
from lgcloud.core.problems import (
    PROBLEM_CONTENT_TYPE,
    Problem,
    forbidden,
    not_authenticated,
    not_found,
    validation_failed,
)


def problem_response(api: NinjaAPI, request: HttpRequest, problem: Problem) -> HttpResponse:
    body = problem.body(instance=request.path, request_id=current_request_id())
    response = api.create_response(request, body, status=problem.status)
    response["Content-Type"] = PROBLEM_CONTENT_TYPE
    return response


def _django_errors(exc: DjangoValidationError) -> list[dict[str, Any]]:
    if hasattr(exc, "error_dict"):
        return [
            {"field": field, "message": message} for field, messages in exc.message_dict.items() for message in messages
        ]
    return [{"field": None, "message": m} for m in exc.messages]


# Japanese messages for the schema errors clients meet most; others keep pydantic's text.
_SCHEMA_MESSAGES = {
    "missing": "必須項目です。",
    "enum": "指定できない値です。",
    "literal_error": "指定できない値です。",
    "string_pattern_mismatch": "形式が正しくありません。",
    "string_too_long": "長すぎます。",
    "string_too_short": "短すぎます。",
    "too_short": "件数が足りません。",
    "int_parsing": "整数で指定してください。",
    "bool_parsing": "true または false で指定してください。",
    "date_from_datetime_parsing": "日付（YYYY-MM-DD）で指定してください。",
    "date_parsing": "日付（YYYY-MM-DD）で指定してください。",
    "greater_than_equal": "小さすぎます。",
    "json_invalid": "JSON として読み取れません。",
}


def _field_error(error: dict[str, Any]) -> dict[str, Any]:
    # loc is e.g. ("body", "payload", "roles", 0) or ("query", "page"): keep the field path.
    parts = [str(p) for p in error.get("loc", ())][1:]
    if parts and parts[0] == "payload":
        parts = parts[1:]
    kind = str(error.get("type", ""))
    return {
        "field": ".".join(parts) or None,
        "message": _SCHEMA_MESSAGES.get(kind, str(error.get("msg", ""))),
        "type": kind,
    }


def problem_for_status(status: int, message: str = "") -> Problem:
    """The problem for an error raised by the framework rather than by our code."""
    if status == 404:
        return not_found()
    if status == 403 and "csrf" in message.lower():
        return forbidden("CSRF 検証に失敗しました。画面を再読み込みするか、X-CSRFToken ヘッダーを付けてください。")
    if status == 403:
        return forbidden()
    if status == 400:
        return Problem(
            400,
            "bad_request",
            "リクエストを読み取れません",
            "本文が JSON として正しいか、Content-Type が application/json か確認してください。",
        )
    if status == 405:
        return Problem(
            405,
            "method_not_allowed",
            "このメソッドは使えません",
            "API ドキュメントで使えるメソッドを確認してください。",
        )
    return Problem(status, "http_error", message or "エラーが発生しました")


class ApiProblemMiddleware:
    """Answers under /api/ that the router produced itself (unknown path, wrong method) become problem+json too."""

    def __init__(self, get_response: Any) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response: HttpResponse = self.get_response(request)
        if (
            request.path.startswith("/api/")
            and response.status_code >= 400
            and not response.get("Content-Type", "").startswith(("application/json", PROBLEM_CONTENT_TYPE))
        ):
            problem = problem_for_status(response.status_code)
            body = problem.body(instance=request.path, request_id=current_request_id())
            replacement = JsonResponse(
                body,
                status=problem.status,
                content_type=PROBLEM_CONTENT_TYPE,
                json_dumps_params={"ensure_ascii": False},
            )
            if response.has_header("Allow"):
                replacement["Allow"] = response["Allow"]
            return replacement
        return response


def install_problem_handlers(api: NinjaAPI) -> None:
    @api.exception_handler(Problem)
    def _problem(request: HttpRequest, exc: Problem) -> HttpResponse:
        return problem_response(api, request, exc)

    @api.exception_handler(NinjaValidationError)
    def _invalid(request: HttpRequest, exc: NinjaValidationError) -> HttpResponse:
        return problem_response(api, request, validation_failed([_field_error(e) for e in exc.errors]))

    @api.exception_handler(DjangoValidationError)
    def _domain_invalid(request: HttpRequest, exc: DjangoValidationError) -> HttpResponse:
        return problem_response(api, request, validation_failed(_django_errors(exc)))

    @api.exception_handler(AuthenticationError)
    def _unauthenticated(request: HttpRequest, exc: AuthenticationError) -> HttpResponse:
        return problem_response(api, request, not_authenticated())

    @api.exception_handler(Http404)
    def _missing(request: HttpRequest, exc: Http404) -> HttpResponse:
        return problem_response(api, request, not_found())

    @api.exception_handler(PermissionDenied)
    def _denied(request: HttpRequest, exc: PermissionDenied) -> HttpResponse:
        return problem_response(api, request, forbidden(str(exc) or "この操作を行う権限がありません。"))

    @api.exception_handler(HttpError)
    def _http(request: HttpRequest, exc: HttpError) -> HttpResponse:
        return problem_response(api, request, problem_for_status(exc.status_code, str(exc)))

    @api.exception_handler(Exception)
    def _crash(request: HttpRequest, exc: Exception) -> HttpResponse:
        # The details go to the server log (with the request id), never to the client.
        import logging

        logging.getLogger("lgcloud.api").exception("unhandled API error")
        return problem_response(
            api,
            request,
            Problem(
                500,
                "internal_error",
                "内部エラーが発生しました",
                "時間をおいて再度お試しください。続く場合は request_id を添えて運用者へ連絡してください。",
            ),
        )
