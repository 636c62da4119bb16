"""Public pages of the resident registry: no sign-in, no personal data.

``/verify/<code>/`` answers whether a certificate with that verification code was
issued and is still valid (有効 / 失効), with its 交付番号, issue date, municipality
and kind. It never shows a name or anything else about the persons printed: whoever
holds the paper can read those; the page only confirms the paper is genuine.
"""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_safe

from lgcloud.core.wareki import format_date

from .certificates import verify_code


@require_safe
@never_cache  # a revocation must show at once, never from a cache
def verify(request: HttpRequest, code: str) -> HttpResponse:
    result = verify_code(code)
    response = render(
        request,
        "registry/verify.html",
        {"result": result, "issued_on": format_date(result.issued_on) if result is not None else ""},
        status=200 if result is not None else 404,
    )
    # The page concerns one paper certificate: keep it out of search engines and referrers.
    response["X-Robots-Tag"] = "noindex, nofollow"
    return response
