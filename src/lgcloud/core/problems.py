"""RFC 9457 problem details for the API, with a stable machine-readable ``code``."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

PROBLEM_CONTENT_TYPE = "application/problem+json"
PROBLEM_TYPE_BASE = "https://lgcloud.example.jp/problems/"


@dataclass
class Problem(Exception):
    """An error the API reports as problem+json.

    ``code`` is stable (clients branch on it); ``title`` and ``detail`` are
    Japanese for people; ``errors`` lists field-level problems.
    """

    status: int
    code: str
    title: str
    detail: str = ""
    errors: list[dict[str, Any]] = field(default_factory=list)

    def __str__(self) -> str:
        return f"{self.code}: {self.detail or self.title}"

    def body(self, instance: str = "", request_id: str = "") -> dict[str, Any]:
        body: dict[str, Any] = {
            "type": PROBLEM_TYPE_BASE + self.code,
            "title": self.title,
            "status": self.status,
            "code": self.code,
        }
        if self.detail:
            body["detail"] = self.detail
        if instance:
            body["instance"] = instance
        if request_id:
            body["request_id"] = request_id
        if self.errors:
            body["errors"] = self.errors
        return body


def not_found() -> Problem:
    # The same answer for "does not exist" and "belongs to another municipality".
    return Problem(404, "not_found", "見つかりません", "指定されたデータは見つかりません。")


def forbidden(detail: str = "この操作を行う権限がありません。") -> Problem:
    return Problem(403, "forbidden", "権限がありません", detail)


def not_authenticated() -> Problem:
    return Problem(
        401, "not_authenticated", "認証が必要です", "ログインするか、有効な API トークンを指定してください。"
    )


def validation_failed(errors: list[dict[str, Any]], detail: str = "入力内容に誤りがあります。") -> Problem:
    return Problem(422, "validation_error", "入力内容に誤りがあります", detail, errors)
