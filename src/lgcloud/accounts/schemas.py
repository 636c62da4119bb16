from __future__ import annotations

from typing import Any

from ninja import Field, Schema

from lgcloud.core.permissions import Role


class StaffOut(Schema):
    id: int
    username: str
    display_name: str
    lg_code: str | None
    roles: list[str]
    is_active: bool

    @staticmethod
    def resolve_roles(obj: Any) -> list[str]:
        return sorted(r.value for r in obj.roles)


class MeOut(Schema):
    staff: StaffOut
    permissions: list[str]


class StaffIn(Schema):
    username: str = Field(..., description="半角英小文字・数字・. _ -（2〜64文字）")
    display_name: str = Field(..., max_length=100)
    roles: list[Role] = Field(..., min_length=1)


class StaffCreatedOut(Schema):
    staff: StaffOut
    initial_password: str = Field(..., description="初期パスワード（この応答でのみ表示）")


class RolesIn(Schema):
    roles: list[Role] = Field(..., min_length=1)
