from django.db import migrations

from lgcloud.core.postgres import EnableTenantRLS


class Migration(migrations.Migration):
    dependencies = [("registry", "0001_initial")]

    operations = [
        EnableTenantRLS("household"),
        EnableTenantRLS("person"),
        EnableTenantRLS("change"),
        EnableTenantRLS("personversion"),
        EnableTenantRLS("protectionorder"),
        EnableTenantRLS("certificate"),
    ]
