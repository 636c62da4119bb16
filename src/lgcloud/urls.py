from django.urls import include, path
from oauth2_provider.views import TokenView

from lgcloud.api import api
from lgcloud.ops import views as ops_views
from lgcloud.registry import public_views as registry_public_views

urlpatterns = [
    path("api/v1/", api.urls),
    # 連携: OAuth 2.0 token endpoint for other systems (client credentials only; docs/linkage.md).
    path("oauth/token/", TokenView.as_view(), name="oauth_token"),
    path("healthz", ops_views.healthz, name="healthz"),
    path("metrics", ops_views.metrics, name="metrics"),
    path("verify/<str:code>/", registry_public_views.verify, name="certificate_verify"),
    path("registry/", include("lgcloud.registry.urls")),
    path("linkage/", include("lgcloud.linkage.urls")),
    path("portability/", include("lgcloud.portability.urls")),
    path("tax/", include("lgcloud.tax.urls")),
    path("benefits/", include("lgcloud.benefits.urls")),
    # 運用監視: usage and charges, the service view, open data, the price list (docs/metering.md).
    path("", include("lgcloud.ops.urls")),
    # 開発用 OpenID Connect provider: answers 404 unless LGCLOUD_OIDC_DEV_PROVIDER is on (development only).
    path("dev-idp/", include("lgcloud.accounts.devidp_urls")),
    # オンライン申請: the residents' portal (/portal/…) and the staff review pages (/procedures/…).
    path("", include("lgcloud.procedures.urls")),
    path("", include("lgcloud.web.urls")),
]

handler404 = "lgcloud.web.views.not_found"
handler403 = "lgcloud.web.views.forbidden"
handler500 = "lgcloud.web.views.server_error"
