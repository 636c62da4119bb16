"""``/api/v1/me`` and ``/api/v1/staff``: staff of the caller's own municipality."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest
from ninja import Router, Status

from . import access, actions, queries
from .auth import api_context, staff_auth
from .schemas import MeOut, RolesIn, StaffCreatedOut, StaffIn, StaffOut

router = Router(tags=["職員"], auth=staff_auth())


@router.get("/me", response=MeOut, summary="ログイン中の職員")
def me(request: HttpRequest) -> Any:
    ctx = api_context(request)
    return {"staff": request.auth, "permissions": sorted(ctx.permissions)}  # type: ignore[attr-defined]


@router.get("/staff", response=list[StaffOut], summary="自団体の職員一覧")
def list_staff(request: HttpRequest) -> Any:
    return queries.list_staff(api_context(request))


@router.get("/staff/{staff_id}", response=StaffOut, summary="職員")
def get_staff(request: HttpRequest, staff_id: int) -> Any:
    return access.get_staff_for_management(api_context(request), staff_id)


@router.post("/staff", response={201: StaffCreatedOut}, summary="職員の登録")
def create_staff(request: HttpRequest, payload: StaffIn) -> Any:
    created = actions.create_staff(
        api_context(request), username=payload.username, display_name=payload.display_name, roles=payload.roles
    )
    return Status(201, {"staff": created.staff, "initial_password": created.generated_password})


@router.put("/staff/{staff_id}/roles", response=StaffOut, summary="職員のロール変更")
def set_roles(request: HttpRequest, staff_id: int, payload: RolesIn) -> Any:
    ctx = api_context(request)
    actions.set_staff_roles(ctx, staff_id, payload.roles)  # 404 for another municipality's staff
    return access.get_staff_for_management(ctx, staff_id)
