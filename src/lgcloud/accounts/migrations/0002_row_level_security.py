from django.db import migrations

from lgcloud.core.postgres import EnableTenantRLS


class Migration(migrations.Migration):
    dependencies = [("accounts", "0001_initial")]

    operations = [
        # Identity tables are read while signing in, before the tenant is known.
        EnableTenantRLS("staff", policy="identity"),
        EnableTenantRLS("staffrole", policy="identity"),
        EnableTenantRLS("apitoken", policy="identity"),
    ]
