from django.db import migrations

from lgcloud.core.postgres import EnableTenantRLS


class Migration(migrations.Migration):
    """Row-level security on the seal tables; the audit record's policy again, since the audit
    policy now also lets the sealer (lgcloud.audit_sealer) through (EnableTenantRLS replaces it)."""

    dependencies = [("audit", "0003_sealed_merkle_tree")]

    operations = [
        EnableTenantRLS("auditrecord", policy="audit"),
        EnableTenantRLS("auditseal", policy="audit"),
        EnableTenantRLS("audittreehead", policy="audit"),
    ]
