"""The chain option the audit commands share: ``--municipality CODE`` or ``--platform``."""

from __future__ import annotations

from typing import Any

from django.core.management.base import CommandError, CommandParser

from lgcloud.core.tenancy import TenantContext
from lgcloud.municipalities.queries import municipality_exists


def add_chain_arguments(parser: CommandParser) -> None:
    group = parser.add_mutually_exclusive_group(required=True)
    group.add_argument("--municipality", metavar="CODE", help="団体コード（その団体のチェーン）")
    group.add_argument("--platform", action="store_true", help="運用者のチェーン（platform）")


def chain_context(options: dict[str, Any], purpose: str) -> TenantContext:
    code = options.get("municipality")
    if code and not municipality_exists(code):
        raise CommandError(f"団体コード {code} の団体は登録されていません。")
    return TenantContext.system(code or None, purpose=purpose)
