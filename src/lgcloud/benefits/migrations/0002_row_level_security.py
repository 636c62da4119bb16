from django.db import migrations

from lgcloud.core.postgres import EnableTenantRLS


class Migration(migrations.Migration):
    dependencies = [("benefits", "0001_initial")]

    operations = [
        EnableTenantRLS("programme"),
        EnableTenantRLS("entitlement"),
        EnableTenantRLS("bankaccount"),
        EnableTenantRLS("application"),
        EnableTenantRLS("paymentbatch"),
        EnableTenantRLS("payment"),
    ]
