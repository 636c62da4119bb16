from django.db import migrations

from lgcloud.core.postgres import EnableTenantRLS


class Migration(migrations.Migration):
    dependencies = [("core", "0001_initial")]

    operations = [
        EnableTenantRLS("tenantsequence"),
        EnableTenantRLS("tenantdatakey"),
    ]
