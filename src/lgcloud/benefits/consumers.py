"""児童手当 reacting to 住民記録 events (linkage's internal consumer API; docs/linkage.md).

出生・転入 of a child opens a pending case for the household's likely 請求者 (申請勧奨);
死亡・転出 ends the case or changes its amount. Run by ``lgcloud run_consumers``.
"""

from __future__ import annotations

from lgcloud.core.tenancy import TenantContext
from lgcloud.linkage.consumers import EventView, consumer

from . import actions

EVENT_TYPES = ["registry.person.born", "registry.person.moved_in", "registry.person.died", "registry.person.moved_out"]


@consumer("benefits.child_allowance", event_types=EVENT_TYPES)
def on_registry_event(ctx: TenantContext, event: EventView) -> None:
    actions.handle_registry_event(ctx, event.type, event.subject, event.effective_date, event.data)
