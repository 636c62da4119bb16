"""児童手当 reacting to 住民記録 events (the consumer declared in the manifest; docs/linkage.md).

出生・転入 of a child opens a pending case for the household's likely 請求者 (申請勧奨);
死亡・転出 ends the case or changes its amount. Run by the event workers (``lgcloud run_consumers``).
"""

from __future__ import annotations

from typing import Any

from lgcloud.contract import TenantContext

from . import actions


def on_registry_event(ctx: TenantContext, event: Any) -> None:
    actions.handle_registry_event(ctx, event.type, event.subject, event.effective_date, event.data)
