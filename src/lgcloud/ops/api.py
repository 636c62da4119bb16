"""Open data (public, no sign-in) and a municipality's charge report (its 団体管理者, or the operator)."""

from __future__ import annotations

from typing import Annotated, Any

from django.http import Http404, HttpRequest
from ninja import Router, Schema
from ninja.params import functions as param

from lgcloud.accounts.auth import api_context, staff_auth
from lgcloud.core.permissions import PlatformPermission

from . import opendata, queries
from .charges import compute_month

router = Router(tags=["オープンデータ・利用料"])

LG_CODE = r"^[0-9]{6}$"
BASE = "/municipalities/{lg_code}"


class ReleaseOut(Schema):
    release: int
    reference_date: str
    changes_since: str
    published_at: str | None
    suppression_threshold: int
    licence: str
    tables: list[str]


class TableOut(Schema):
    lg_code: str
    municipality: str
    release: int
    reference_date: str
    changes_since: str
    published_at: str | None
    suppression_threshold: int
    suppressed_mark: str
    licence: str
    attribution: str
    table: str
    title: str
    total_label: str
    rows: list[dict[str, Any]]


class ColumnOut(Schema):
    name: str
    label: str
    description: str


class DictionaryOut(Schema):
    table: str
    title: str
    columns: list[ColumnOut]


@router.get("/opendata/dictionary", response=list[DictionaryOut], auth=None, summary="オープンデータのデータ辞書")
def dictionary(request: HttpRequest) -> Any:
    return opendata.dictionary()


@router.get(f"{BASE}/opendata", response=list[ReleaseOut], auth=None, summary="公表中のオープンデータの一覧")
def list_releases(request: HttpRequest, lg_code: Annotated[str, param.Path(..., pattern=LG_CODE)]) -> Any:
    ctx, _name = opendata.public_context(lg_code)
    return [
        {
            "release": r.number,
            "reference_date": r.reference_date.isoformat(),
            "changes_since": r.changes_since.isoformat(),
            "published_at": r.published_at.isoformat() if r.published_at else None,
            "suppression_threshold": r.threshold,
            "licence": opendata.licence(r.reference_date),
            "tables": list(opendata.TABLES),
        }
        for r in queries.releases(ctx, published_only=True)
    ]


def _table(lg_code: str, table: str, release: int | None) -> Any:
    ctx, name = opendata.public_context(lg_code)
    found = queries.latest_published(ctx) if release is None else queries.release(ctx, release, published_only=True)
    if found is None:
        raise Http404("公表データが見つかりません。")
    return opendata.table_json(table, found.tables[table], opendata.release_meta(found, name))


Release = Annotated[int | None, param.Query(None, ge=1, description="公表番号（省略時は最新）")]


@router.get(
    f"{BASE}/opendata/population",
    response=TableOut,
    auth=None,
    summary="町丁目別・5歳階級別・男女別人口（秘匿処理済み）",
)
def population(
    request: HttpRequest, lg_code: Annotated[str, param.Path(..., pattern=LG_CODE)], release: Release = None
) -> Any:
    return _table(lg_code, "population", release)


@router.get(
    f"{BASE}/opendata/households", response=TableOut, auth=None, summary="町丁目別・世帯人員別世帯数（秘匿処理済み）"
)
def households(
    request: HttpRequest, lg_code: Annotated[str, param.Path(..., pattern=LG_CODE)], release: Release = None
) -> Any:
    return _table(lg_code, "households", release)


@router.get(
    f"{BASE}/opendata/changes", response=TableOut, auth=None, summary="月別・異動事由別の異動件数（秘匿処理済み）"
)
def changes(
    request: HttpRequest, lg_code: Annotated[str, param.Path(..., pattern=LG_CODE)], release: Release = None
) -> Any:
    return _table(lg_code, "changes", release)


class ChargeLineOut(Schema):
    code: str
    label: str
    basis: str
    quantity: str
    total: str
    share_percent: str
    pool_yen: int
    yen: int


class ChargeOut(Schema):
    lg_code: str
    name: str
    month: str
    provisional: bool
    platform_cost_yen: int
    total_yen: int
    lines: list[ChargeLineOut]


@router.get(f"{BASE}/usage", response=ChargeOut, auth=staff_auth(), summary="月次利用料の明細")
def usage(
    request: HttpRequest,
    lg_code: Annotated[str, param.Path(..., pattern=LG_CODE)],
    month: Annotated[str, param.Query(..., pattern=r"^\d{4}-(0[1-9]|1[0-2])$", description="年月（YYYY-MM）")],
) -> Any:
    ctx = api_context(request)
    own = ctx.lg_code == lg_code and ctx.has(PlatformPermission.USAGE_READ)
    if not (own or (ctx.is_platform and ctx.has(PlatformPermission.PLATFORM_USAGE_READ))):
        raise Http404  # another municipality's report looks like a missing one
    try:
        charges = compute_month(month)
    except ValueError:
        raise Http404 from None
    charge = charges.charges.get(lg_code)
    if charge is None:
        raise Http404
    return {
        "lg_code": charge.lg_code,
        "name": charge.name,
        "month": charge.month,
        "provisional": charge.provisional,
        "platform_cost_yen": charges.cost_yen,
        "total_yen": charge.total_yen,
        "lines": [
            {
                **{k: getattr(line, k) for k in ("code", "label", "basis", "quantity", "total", "pool_yen", "yen")},
                "share_percent": line.share_percent,
            }
            for line in charge.lines
        ],
    }
