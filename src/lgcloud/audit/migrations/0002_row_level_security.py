from django.db import migrations

from lgcloud.core.postgres import EnableTenantRLS


class Migration(migrations.Migration):
    dependencies = [("audit", "0001_initial")]

    operations = [
        EnableTenantRLS("auditrecord", policy="audit"),
        EnableTenantRLS("auditchainhead", policy="audit"),
    ]
