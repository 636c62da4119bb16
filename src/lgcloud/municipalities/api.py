"""``/api/v1/municipalities``: the municipality list, for any signed-in member of staff."""

from __future__ import annotations

from typing import Annotated, Any

from django.http import Http404, HttpRequest
from ninja import Router
from ninja.params import functions as param

from lgcloud.accounts.auth import api_context, staff_auth
from lgcloud.core.permissions import PlatformPermission

from . import queries
from .schemas import MunicipalityOut

router = Router(tags=["団体"], auth=staff_auth())

LG_CODE_PATTERN = r"^[0-9]{6}$"


@router.get("/municipalities", response=list[MunicipalityOut], summary="団体一覧")
def list_municipalities(
    request: HttpRequest,
    prefecture_code: Annotated[
        str | None, param.Query(None, pattern=r"^[0-9]{2}$", description="都道府県コード（例: 13）")
    ] = None,
    on_platform: Annotated[bool | None, param.Query(None, description="true: 本基盤を利用中の団体だけ")] = None,
) -> Any:
    api_context(request).require(PlatformPermission.MUNICIPALITY_LIST)
    return queries.list_municipalities(prefecture_code=prefecture_code, on_platform=on_platform)


@router.get("/municipalities/{lg_code}", response=MunicipalityOut, summary="団体")
def get_municipality(request: HttpRequest, lg_code: Annotated[str, param.Path(..., pattern=LG_CODE_PATTERN)]) -> Any:
    api_context(request).require(PlatformPermission.MUNICIPALITY_LIST)
    municipality = queries.get_municipality(lg_code)
    if municipality is None:
        raise Http404
    return municipality
