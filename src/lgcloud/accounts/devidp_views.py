"""Pages and endpoints of the 開発用 OpenID Connect provider (development and tests only; see devidp.py)."""

from __future__ import annotations

from typing import Any

from django import forms
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render
from django.utils.decorators import method_decorator
from django.views import View
from django.views.decorators.csrf import csrf_exempt
from oauth2_provider.exceptions import OAuthToolkitError
from oauth2_provider.http import OAuth2ResponseRedirect
from oauth2_provider.views import TokenView
from oauth2_provider.views.mixins import OAuthLibMixin
from oauthlib.openid import Server as OpenIDServer

from lgcloud.core.checkdigits import CheckDigitError, validate_lg_code

from . import devidp


def _guard() -> None:
    if not devidp.enabled():
        raise Http404


class DevSignInForm(forms.Form):
    lg_code = forms.CharField(label="団体コード（6桁）", max_length=6, min_length=6)
    atena_number = forms.CharField(label="宛名番号（10桁）", max_length=10, min_length=1)

    def clean_lg_code(self) -> str:
        value: str = self.cleaned_data["lg_code"]
        try:
            validate_lg_code(value)
        except CheckDigitError as exc:
            raise forms.ValidationError("団体コードが正しくありません。") from exc
        return value


class _OwnCore:
    """Keep the OAuthlib core on this very class.

    django-oauth-toolkit caches it with ``hasattr(cls, "_oauthlib_core")``, which a subclass
    inherits: once the linkage app's token endpoint (DOT's own TokenView, with the
    client-credentials validator) had served a request, this provider's token view used that
    core, and its validator refused the portal's client (a 401 that depended on test order).
    """

    @classmethod
    def get_oauthlib_core(cls) -> Any:
        core = cls.__dict__.get("_dev_oauthlib_core")
        if core is None:
            core = cls.get_oauthlib_backend_class()(cls.get_server())  # type: ignore[attr-defined]
            cls._dev_oauthlib_core = core  # type: ignore[attr-defined]
        return core


class DevAuthorizeView(_OwnCore, OAuthLibMixin, View):  # type: ignore[misc]
    """The authorization endpoint: a stand-in for reading the My Number Card, then a code."""

    server_class = OpenIDServer
    validator_class = devidp.DevOidcValidator

    def _page(self, request: HttpRequest, form: DevSignInForm, status: int = 200, error: str = "") -> HttpResponse:
        return render(
            request,
            "accounts/dev_idp_sign_in.html",
            {"form": form, "error": error, "query": request.GET.urlencode()},
            status=status,
        )

    def _validate(self, request: HttpRequest) -> tuple[list[str], dict[str, Any]] | HttpResponse:
        try:
            scopes, credentials = self.validate_authorization_request(request)
        except OAuthToolkitError:
            return render(request, "accounts/dev_idp_error.html", status=400)
        return scopes, credentials

    def get(self, request: HttpRequest) -> HttpResponse:
        _guard()
        checked = self._validate(request)
        if isinstance(checked, HttpResponse):
            return checked
        return self._page(request, DevSignInForm())

    def post(self, request: HttpRequest) -> HttpResponse:
        _guard()
        checked = self._validate(request)
        if isinstance(checked, HttpResponse):
            return checked
        scopes, credentials = checked
        form = DevSignInForm(request.POST)
        if not form.is_valid():
            return self._page(request, form, 400)
        try:
            user = devidp.identity_for(form.cleaned_data["lg_code"], form.cleaned_data["atena_number"])
        except (Http404, LookupError):
            return self._page(request, form, 400, "その団体・宛名番号の住民は見つかりません。")
        # The provider's "authentication" is this form: the grant is kept against the placeholder user.
        request.user = user
        uri, _headers, _body, _status = self.create_authorization_response(
            request=request, scopes=" ".join(scopes), credentials=credentials, allow=True
        )
        response: HttpResponse = OAuth2ResponseRedirect(uri, ["http", "https"])
        return response


@method_decorator(csrf_exempt, name="dispatch")
class DevTokenView(_OwnCore, TokenView):  # type: ignore[misc]
    server_class = OpenIDServer
    validator_class = devidp.DevOidcValidator

    def post(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        _guard()
        response: HttpResponse = super().post(request, *args, **kwargs)
        return response


def discovery(request: HttpRequest) -> JsonResponse:
    _guard()
    return JsonResponse(devidp.discovery_document())


def jwks(request: HttpRequest) -> JsonResponse:
    _guard()
    return JsonResponse(devidp.public_jwks())
