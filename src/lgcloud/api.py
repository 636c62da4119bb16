"""``/api/v1/``: the REST API (OpenAPI at /api/v1/openapi.json, docs at /api/v1/docs)."""

from __future__ import annotations

from ninja import NinjaAPI

from lgcloud import __version__
from lgcloud.accounts.api import router as accounts_router
from lgcloud.audit.api import router as audit_router
from lgcloud.core.api import install_problem_handlers
from lgcloud.linkage.api import router as linkage_router
from lgcloud.municipalities.api import router as municipalities_router
from lgcloud.ops.api import router as ops_router
from lgcloud.portability.api import router as portability_router

api = NinjaAPI(
    title="lgcloud API",
    version=__version__,
    description=(
        "自治体向け共同利用基盤 lgcloud の API。職員はセッションまたは個人用 API トークン"
        "（`Authorization: Bearer …`）で認証します。エラーは RFC 9457 problem+json で、"
        "安定した `code` を持ちます。業務アプリ（住民記録など）の API は、団体が選んだ実装が同じ /api/v1/ の下で"
        "応答します。その OpenAPI は /api/v1/apps/<実装ID>/openapi.json にあります（docs/api.md）。"
    ),
    urls_namespace="api",
)
install_problem_handlers(api)
api.add_router("", municipalities_router)
api.add_router("", accounts_router)
api.add_router("", audit_router)
api.add_router("", portability_router)
api.add_router("", linkage_router)
api.add_router("", ops_router)
