"""``lgcloud publish_procedures``: publish the procedure definitions the installed apps ship."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError

from lgcloud.core.tenancy import TenantContext
from lgcloud.procedures.actions import publish_definitions
from lgcloud.procedures.rules.definitions import DefinitionError


class Command(BaseCommand):
    help = "手続の定義（YAML）を公開します。公開後に変更された定義は新しい版として公開されます。"

    def handle(self, *args: Any, **options: Any) -> None:
        ctx = TenantContext.system(None, purpose="procedures.publish", actor_name="publish_procedures")
        try:
            results = publish_definitions(ctx)
        except DefinitionError as exc:
            raise CommandError("定義に誤りがあります:\n" + "\n".join(f"  - {p}" for p in exc.problems)) from exc
        for r in results:
            state = "公開しました" if r.created else "変更なし"
            self.stdout.write(f"{r.code}\tv{r.version}\t{state}")
