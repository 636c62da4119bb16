"""``POST /api/v1/municipalities/{lg_code}/kiosk/certificates``: コンビニ交付.

Called by the municipality's kiosk account (role ``kiosk``, personal API token).
The resident proves who they are with the 住民票コード from their card and the
4-digit PIN; the answer is the PDF itself, or problem+json. Everything here is
request-scoped: no module-level state, nothing kept between requests.
"""

from __future__ import annotations

import os
from typing import Annotated, Literal

from django.conf import settings
from django.http import Http404, HttpRequest, HttpResponse
from django.utils import timezone
from ninja import Field, Router, Schema
from ninja.params import functions as param

from lgcloud.contract import Problem
from lgcloud.contract.platform import api_auth, api_context

from . import kiosk

router = Router(tags=["コンビニ交付"], auth=api_auth())

LgCode = Annotated[str, param.Path(..., pattern=r"^[0-9]{6}$", description="全国地方公共団体コード")]


class KioskCertificateIn(Schema):
    resident_code: str = Field(..., pattern=r"^[0-9]{11}$", description="住民票コード（カードに記録された11桁）")
    pin: str = Field(..., pattern=r"^[0-9]{4}$", description="暗証番号（数字4桁）")
    kind: Literal["individual", "household", "record_items"] = Field(
        "individual",
        description="individual: 住民票の写し（個人票）, household: 世帯連記式, record_items: 記載事項証明書",
    )
    subject_atena_number: str | None = Field(
        None, pattern=r"^[0-9]{1,10}$", description="証明書に記載する人（省略時は本人）。同一世帯の人に限る"
    )
    subject_atena_numbers: list[Annotated[str, Field(pattern=r"^[0-9]{1,10}$")]] | None = Field(
        None, max_length=20, description="世帯連記式に記載する世帯員（household のみ。省略時は世帯全員）"
    )


class KioskProblemOut(Schema):
    type: str
    title: str
    status: int
    code: str
    detail: str | None = None
    instance: str | None = None
    request_id: str | None = None


@router.post(
    "/municipalities/{lg_code}/kiosk/certificates",
    response={
        200: None,
        401: KioskProblemOut,
        403: KioskProblemOut,
        404: KioskProblemOut,
        422: KioskProblemOut,
        423: KioskProblemOut,
        500: KioskProblemOut,
        503: KioskProblemOut,
    },
    summary="コンビニ交付（本人確認済み住民への証明書の交付）",
    description=(
        "応答は `application/pdf`（ヘッダー `X-Issue-Number`, `X-Verification-Code`）。"
        "カード・暗証番号を確認できない場合は 401 `card_or_pin_invalid`、3回続けて誤ると 423 `pin_locked`、"
        "同一世帯でない人は 403 `not_in_household`、支援措置の対象者は 403（拒否理由のコード）、"
        "作成が時間内に終わらない場合は 503 `render_timeout`（証明書は交付されず、記録も残りません）。"
    ),
    openapi_extra={
        "responses": {200: {"content": {"application/pdf": {"schema": {"type": "string", "format": "binary"}}}}}
    },
)
def issue_certificate(request: HttpRequest, lg_code: LgCode, payload: KioskCertificateIn) -> HttpResponse:
    ctx = api_context(request, purpose="registry.kiosk")
    if ctx.lg_code != lg_code:
        raise Http404  # another municipality, or none: indistinguishable from a missing one
    ctx.require(kiosk.SELF_SERVICE)
    subjects: tuple[str, ...] = tuple(payload.subject_atena_numbers or ())
    if payload.subject_atena_number:
        subjects = (payload.subject_atena_number, *subjects)
    try:
        issued = kiosk.issue_at_kiosk(
            ctx,
            kiosk.KioskRequest(
                resident_code=payload.resident_code,
                pin=payload.pin,
                kind=payload.kind,
                subject_atena_numbers=subjects,
            ),
            today=timezone.localdate(),
            render_deadline=kiosk.render_deadline(),
        )
    except kiosk.KioskRefusal as exc:
        raise Problem(exc.status, exc.code, exc.title, exc.message) from exc
    response = HttpResponse(issued.pdf, content_type="application/pdf")
    response["X-Issue-Number"] = str(issued.issue_number)
    response["X-Verification-Code"] = issued.verification_code
    response["Content-Disposition"] = f'inline; filename="certificate-{issued.issue_number}.pdf"'
    response["Cache-Control"] = "no-store"
    if settings.DEVELOPMENT:
        # Lets the concurrency test see that several worker processes answered.
        response["X-Worker"] = str(os.getpid())
    return response
