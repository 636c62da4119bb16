"""Routing of 業務 requests to the implementation each municipality chose (the app directory).

Every installed implementation of a 業務 is mounted at the same place: its pages under
``/<業務 slug>/`` and its API routes under ``/api/v1/``, each behind a gate that lets a request
through only if the request's municipality uses that implementation. The pages' municipality is
the signed-in member of staff's (set by the accounts middleware before URLs resolve); the API's is
the ``municipalities/{lg_code}/`` of its path. A request the gates turn away reaches the 業務's
catch-all, which answers in Japanese (page) or problem+json ``gyomu_not_enabled`` (API) that the
municipality does not use the 業務 — or 404 where it does and the path simply does not exist.
URL names stay each implementation's own (``registry:search``), so reversing never depends on
the request.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from functools import cache
from typing import Any

from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import URLPattern, URLResolver, include, path, re_path
from django.urls.exceptions import Resolver404
from django.urls.resolvers import RoutePattern
from ninja import NinjaAPI
from ninja.errors import HttpError

from lgcloud.contract import GYOMU, Manifest
from lgcloud.contract.discovery import installed, resolve
from lgcloud.core.api import install_problem_handlers, problem_response
from lgcloud.core.middleware import current_municipality
from lgcloud.core.problems import Problem, not_authenticated, not_found
from lgcloud.municipalities.queries import active_apps, is_enabled

_API_MUNICIPALITY = re.compile(r"^municipalities/(?P<lg_code>[0-9]{6})/")


class ChoiceGate(URLResolver):
    """One implementation's URLconf, resolved only for municipalities that use that implementation."""

    def __init__(
        self,
        app_id: str,
        urlconf: Any,
        *,
        municipality_of: Callable[[str], str | None],
        without_municipality: bool,
        app_name: str | None = None,
        namespace: str | None = None,
    ) -> None:
        super().__init__(RoutePattern(""), urlconf, app_name=app_name, namespace=namespace)
        self.app_id = app_id
        self._municipality_of = municipality_of
        self._without_municipality = without_municipality

    def resolve(self, path: Any) -> Any:
        lg_code = self._municipality_of(str(path))
        if lg_code is None:
            if not self._without_municipality:
                raise Resolver404({"path": path})
        elif not is_enabled(lg_code, self.app_id):
            raise Resolver404({"path": path})
        return super().resolve(path)


def _page_municipality(_path: str) -> str | None:
    return current_municipality()


def _api_municipality(app_id: str) -> Callable[[str], str | None]:
    own = f"apps/{app_id}/"

    def municipality_of(path: str) -> str | None:
        if path.startswith(own):
            return None  # the implementation's own OpenAPI document and docs: not a municipality's data
        found = _API_MUNICIPALITY.match(path)
        return found.group("lg_code") if found else ""

    return municipality_of


def _not_enabled_page(gyomu: str) -> Callable[..., HttpResponse]:
    def view(request: HttpRequest, rest: str = "") -> HttpResponse:
        ctx = getattr(request, "tenant_ctx", None)
        lg_code = ctx.lg_code if ctx is not None else None
        if lg_code is None:
            from django.contrib.auth.views import redirect_to_login

            return redirect_to_login(request.get_full_path())
        if gyomu in active_apps(lg_code):
            raise Http404  # the municipality uses the 業務; this page just does not exist
        implementations = sorted((m for m in installed().values() if m.gyomu == gyomu), key=lambda m: m.id)
        return render(
            request,
            "web/gyomu_not_enabled.html",
            {"gyomu": GYOMU[gyomu], "implementations": implementations},
            status=404,
        )

    return view


@cache
def app_api(app_id: str) -> NinjaAPI:
    """The NinjaAPI of one implementation (its routes, its OpenAPI document at ``apps/<id>/openapi.json``)."""
    m = installed()[app_id]
    api = NinjaAPI(
        title=f"{m.name} API",
        version=m.version,
        description=(
            f"{m.gyomu_name}（{m.vendor} の実装 {m.id}）の API。団体はこの業務にこの実装を選んでいる場合に限り、"
            "このパスで応答します。認証とエラー形式は lgcloud API と同じです（docs/api.md）。"
        ),
        urls_namespace=f"api-{m.id}",
        openapi_url=f"/apps/{m.id}/openapi.json",
        docs_url=f"/apps/{m.id}/docs",
    )
    install_problem_handlers(api)
    api.add_router("", resolve(m.api))
    return api


def _caller_municipality(request: HttpRequest) -> str | None:
    """The municipality of the authenticated member of staff (token or session), "" for the operator."""
    from lgcloud.contract.platform import api_auth

    for auth in api_auth():
        try:
            principal = auth(request)
        except HttpError:  # a session without its CSRF token: not authenticated for this request
            continue
        if principal:
            return str(principal.municipality_id or "")
    return None


def _api_not_enabled(request: HttpRequest, lg_code: str, rest: str) -> HttpResponse:
    """A municipality's API path no chosen implementation answered: not used here, or not a path at all.

    Only the municipality's own staff learn that it does not use a 業務; anyone else gets the answer
    a municipality that does not exist gets (not found), so nothing can be probed.
    """
    from lgcloud.api import api as platform_api

    caller = _caller_municipality(request)
    if caller is None:
        return problem_response(platform_api, request, not_authenticated())
    if caller != lg_code:
        return problem_response(platform_api, request, not_found())
    tail = f"municipalities/{lg_code}/{rest}"
    for m in installed().values():
        if not m.api:
            continue
        try:
            URLResolver(RoutePattern(""), app_api(m.id).urls[0]).resolve(tail)
        except Resolver404:
            continue
        if m.gyomu in active_apps(lg_code):
            break  # the 業務 is used (through another implementation): the path is simply not there
        g = GYOMU[m.gyomu]
        return problem_response(
            platform_api,
            request,
            Problem(
                404,
                "gyomu_not_enabled",
                "この団体はこの業務を利用していません",
                f"団体 {lg_code} は {g.name}（業務 {g.code}）の業務アプリを選んでいません"
                "（団体管理者が申請し、運用者が承認します）。",
            ),
        )
    return problem_response(platform_api, request, not_found())


def public_patterns() -> list[URLPattern | URLResolver]:
    """Each installed app's public pages (no personal data), from the site's root, whatever the choice."""
    return [path("", include(m.public_urls)) for m in installed().values() if m.public_urls]


def gyomu_page_patterns() -> list[URLPattern | URLResolver]:
    """``/<slug>/`` of each 業務 with an implementation that has pages."""
    out: list[URLPattern | URLResolver] = []
    by_gyomu: dict[str, list[Manifest]] = {}
    for m in installed().values():
        if m.urls:
            by_gyomu.setdefault(m.gyomu, []).append(m)
    for gyomu, impls in sorted(by_gyomu.items()):
        gates: list[URLPattern | URLResolver] = []
        for i, m in enumerate(sorted(impls, key=lambda x: x.id)):
            module, app_name, namespace = include(m.urls)
            gates.append(
                ChoiceGate(
                    m.id,
                    module,
                    municipality_of=_page_municipality,
                    # Not signed in: the first implementation, whose guard sends the visitor to sign in.
                    without_municipality=i == 0,
                    app_name=app_name,
                    namespace=namespace,
                )
            )
        gates.append(re_path(r"^(?P<rest>.*)$", _not_enabled_page(gyomu), name=f"gyomu_{gyomu}_not_enabled"))
        out.append(path(f"{GYOMU[gyomu].slug}/", include(gates)))
    return out


def gyomu_api_patterns() -> list[URLPattern | URLResolver]:
    """Each implementation's API under ``/api/v1/``, gated; then the catch-all for a municipality's paths."""
    out: list[URLPattern | URLResolver] = []
    for m in installed().values():
        if not m.api:
            continue
        patterns, app_name, namespace = app_api(m.id).urls
        out.append(
            ChoiceGate(
                m.id,
                patterns,
                municipality_of=_api_municipality(m.id),
                without_municipality=True,
                app_name=app_name,
                namespace=namespace,
            )
        )
    out.append(re_path(r"^municipalities/(?P<lg_code>[0-9]{6})/(?P<rest>.+)$", _api_not_enabled))
    return out
