"""For an app's migrations: row-level security on each of its tenant tables (docs/apps.md).

from lgcloud.contract.migrations import EnableTenantRLS

operations = [EnableTenantRLS("sealregistration")]  # the model name, as in migrations.CreateModel
"""

from __future__ import annotations

from lgcloud.core.postgres import EnableTenantRLS

__all__ = ["EnableTenantRLS"]
