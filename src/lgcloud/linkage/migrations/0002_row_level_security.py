from django.db import migrations

from lgcloud.core.postgres import EnableTenantRLS


class Migration(migrations.Migration):
    dependencies = [("linkage", "0001_initial")]

    operations = [
        EnableTenantRLS("event"),
        EnableTenantRLS("subscription"),
        EnableTenantRLS("delivery"),
        EnableTenantRLS("deliveryattempt"),
        EnableTenantRLS("consumercursor"),
        # A client is looked up by its token before the municipality is known (as staff tokens are).
        EnableTenantRLS("apiclient", policy="identity"),
        EnableTenantRLS("transfer"),
    ]
