from django.urls import include, path
from oauth2_provider.views import TokenView

from lgcloud.api import api
from lgcloud.ops import views as ops_views
from lgcloud.routing import gyomu_api_patterns, gyomu_page_patterns, public_patterns

urlpatterns = [
    path("api/v1/", api.urls),
    # 業務 apps' API routes, each answered by the implementation the path's municipality chose.
    path("api/v1/", include(gyomu_api_patterns())),
    # 連携: OAuth 2.0 token endpoint for other systems (client credentials only; docs/linkage.md).
    path("oauth/token/", TokenView.as_view(), name="oauth_token"),
    path("healthz", ops_views.healthz, name="healthz"),
    path("metrics", ops_views.metrics, name="metrics"),
    path("linkage/", include("lgcloud.linkage.urls")),
    path("portability/", include("lgcloud.portability.urls")),
    *public_patterns(),
    # 業務 apps' pages at /<業務 slug>/, each answered by the implementation the municipality chose.
    *gyomu_page_patterns(),
    # 開発用 OpenID Connect provider: answers 404 unless LGCLOUD_OIDC_DEV_PROVIDER is on (development only).
    path("dev-idp/", include("lgcloud.accounts.devidp_urls")),
    # オンライン申請: the residents' portal (/portal/…) and the staff review pages (/procedures/…).
    path("", include("lgcloud.procedures.urls")),
    # The platform's own pages: staff and tokens, the audit log, the app directory and the
    # operator's municipality list, 運用監視 (稼働状況, batch jobs, usage and charges, the service view,
    # open data, the price list: docs/metering.md); then sign-in and the dashboard.
    path("", include("lgcloud.accounts.urls")),
    path("", include("lgcloud.audit.urls")),
    path("", include("lgcloud.municipalities.urls")),
    path("", include("lgcloud.ops.urls")),
    path("", include("lgcloud.web.urls")),
]

handler404 = "lgcloud.web.views.not_found"
handler403 = "lgcloud.web.views.forbidden"
handler500 = "lgcloud.web.views.server_error"
