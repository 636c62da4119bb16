"""``Idempotency-Key``: a retried write gives the first answer and writes nothing twice.

A client that loses an acknowledgement (the primary failed over, the connection
dropped, a proxy timed out) cannot know whether its write committed. It retries
with the same key and the same body:

- if the first attempt committed, the stored answer comes back (header
  ``Idempotent-Replayed: true``) and no second write is made;
- if it did not commit, nothing was stored either (the key row is written in
  the same transaction as the write), so the retry runs the write for real;
- while the first attempt is still running, the retry waits for it (the unique
  key in the database serialises them) and then gets its answer;
- the same key with a different body is refused (``idempotency_key_reused``).

Only successful answers are kept: a refused write rolls back with its key, so
the client may correct the body and try again under the same key.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.core.serializers.json import DjangoJSONEncoder
from django.db import IntegrityError, transaction
from django.http import HttpResponse, JsonResponse

from lgcloud.core.models import IdempotencyKey
from lgcloud.core.problems import Problem
from lgcloud.core.tenancy import TenantContext, bound

HEADER = "Idempotency-Key"
REPLAYED_HEADER = "Idempotent-Replayed"
# Printable ASCII without spaces: a UUID, a ULID or any client's own scheme fits.
_KEY = re.compile(r"^[\x21-\x7e]{1,200}$")


@dataclass(frozen=True)
class Outcome:
    status: int
    body: Any
    replayed: bool


def invalid_key() -> Problem:
    return Problem(
        422,
        "idempotency_key_invalid",
        "Idempotency-Key が正しくありません",
        "Idempotency-Key は空白を含まない ASCII 文字 1〜200 文字で指定してください（UUID を推奨）。",
    )


def key_reused() -> Problem:
    return Problem(
        422,
        "idempotency_key_reused",
        "Idempotency-Key が別の内容で使われています",
        "同じ Idempotency-Key は同じ内容の再送にだけ使えます。新しい操作には新しいキーを指定してください。",
    )


def fingerprint(method: str, path: str, body: Any) -> str:
    """An HMAC of what the request asks for; the body may hold a 個人番号, so it is never stored as is."""
    canonical = json.dumps([method.upper(), path, body], sort_keys=True, ensure_ascii=False, cls=DjangoJSONEncoder)
    return hmac.new(settings.SECRET_KEY.encode(), canonical.encode(), hashlib.sha256).hexdigest()


def validate_key(key: str) -> str:
    if not _KEY.match(key):
        raise invalid_key()
    return key


def _replay(row: IdempotencyKey, print_: str) -> Outcome:
    if row.fingerprint != print_:
        raise key_reused()
    return Outcome(row.status_code, row.response, replayed=True)


def once(ctx: TenantContext, key: str, print_: str, run: Callable[[], tuple[int, Any]]) -> Outcome:
    """Run ``run`` (a write returning its status and JSON-able body) at most once per ``key``.

    ``run`` is called inside one transaction bound to ``ctx`` together with the
    key row, so the two commit or roll back together.
    """
    lg_code = ctx.tenant_code
    validate_key(key)
    with bound(ctx):
        try:
            # A savepoint: a conflicting claim leaves the enclosing transaction usable.
            with transaction.atomic():
                row = IdempotencyKey.objects.create(municipality_id=lg_code, key=key, fingerprint=print_)
        except IntegrityError:
            # Taken, and committed (the insert waited for the other transaction to end).
            return _replay(IdempotencyKey.objects.get(municipality_id=lg_code, key=key), print_)
        status, body = run()
        row.status_code = status
        # Stored as JSON text round-trips (dates become ISO strings); the response
        # schema turns them back into the same answer on a replay.
        row.response = json.loads(json.dumps(body, cls=DjangoJSONEncoder))
        row.save(update_fields=["status_code", "response"])
    return Outcome(status, body, replayed=False)


def json_response(outcome: Outcome) -> HttpResponse:
    """The answer as JSON, the same bytes the first time and on every replay."""
    response = JsonResponse(outcome.body, status=outcome.status, safe=False, json_dumps_params={"ensure_ascii": False})
    if outcome.replayed:
        response[REPLAYED_HEADER] = "true"
    return response
