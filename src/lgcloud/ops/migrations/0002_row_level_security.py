from django.db import migrations

from lgcloud.core.postgres import EnableTenantRLS


class Migration(migrations.Migration):
    dependencies = [("ops", "0001_initial")]

    operations = [
        EnableTenantRLS("usageday"),
        EnableTenantRLS("costbaseline"),
        EnableTenantRLS("opendatarelease"),
    ]
