"""``/api/v1/``: the REST API (OpenAPI at /api/v1/openapi.json, docs at /api/v1/docs)."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from ninja import NinjaAPI

from lgcloud import __version__
from lgcloud.accounts.api import router as accounts_router
from lgcloud.audit.api import router as audit_router
from lgcloud.core.api import install_problem_handlers, problem_response
from lgcloud.core.problems import Problem
from lgcloud.linkage.api import router as linkage_router
from lgcloud.municipalities.api import router as municipalities_router
from lgcloud.ops.api import router as ops_router
from lgcloud.portability.api import router as portability_router
from lgcloud.registry.actions import PossibleDuplicate
from lgcloud.registry.api import router as registry_router
from lgcloud.registry.kiosk_api import router as kiosk_router

api = NinjaAPI(
    title="lgcloud API",
    version=__version__,
    description=(
        "自治体向け共同利用基盤 lgcloud の API。職員はセッションまたは個人用 API トークン"
        "（`Authorization: Bearer …`）で認証します。エラーは RFC 9457 problem+json で、"
        "安定した `code` を持ちます。"
    ),
    urls_namespace="api",
)
install_problem_handlers(api)
api.add_router("", municipalities_router)
api.add_router("", accounts_router)
api.add_router("", audit_router)
api.add_router("", registry_router)
api.add_router("", kiosk_router)
api.add_router("", portability_router)
api.add_router("", linkage_router)
api.add_router("", ops_router)


@api.exception_handler(PossibleDuplicate)
def _possible_duplicate(request: HttpRequest, exc: PossibleDuplicate) -> HttpResponse:
    errors = [{"field": f, "message": m} for f, ms in exc.message_dict.items() for m in ms]
    return problem_response(
        api,
        request,
        Problem(
            409,
            "possible_duplicate",
            "同一人の可能性がある住民がいます",
            "確認のうえ confirm_duplicates を true にして再送してください。",
            errors,
        ),
    )
