"""URLs of the 開発用 OpenID Connect provider, mounted at /dev-idp/ only when it is enabled."""

from django.urls import path

from . import devidp_views

app_name = "dev_idp"

urlpatterns = [
    path(".well-known/openid-configuration", devidp_views.discovery, name="discovery"),
    path("jwks.json", devidp_views.jwks, name="jwks"),
    path("authorize/", devidp_views.DevAuthorizeView.as_view(), name="authorize"),
    path("token/", devidp_views.DevTokenView.as_view(), name="token"),
]
