"""``/api/v1/audit/records``: the caller's municipality's audit log (auditors only)."""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any

from django.http import HttpRequest
from ninja import Router
from ninja.params import functions as param

from lgcloud.accounts.auth import api_context, staff_auth

from .queries import AuditFilter, search_audit_log
from .schemas import AuditPageOut

router = Router(tags=["監査ログ"], auth=staff_auth())


@router.get("/audit/records", response=AuditPageOut, summary="監査ログの検索")
def audit_records(
    request: HttpRequest,
    date_from: date | None = None,
    date_to: date | None = None,
    action: Annotated[str, param.Query("", max_length=100)] = "",
    actor: Annotated[str, param.Query("", max_length=150)] = "",
    subject_id: Annotated[str, param.Query("", max_length=100)] = "",
    page: Annotated[int, param.Query(1, ge=1)] = 1,
) -> Any:
    flt = AuditFilter(date_from=date_from, date_to=date_to, action=action, actor=actor, subject_id=subject_id)
    return search_audit_log(api_context(request, purpose="audit"), flt, page)
