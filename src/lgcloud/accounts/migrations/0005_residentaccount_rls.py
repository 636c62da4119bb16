from django.db import migrations

from lgcloud.core.postgres import EnableTenantRLS


class Migration(migrations.Migration):
    dependencies = [("accounts", "0004_residentaccount")]

    # Residents sign in at their municipality's portal, so the tenant is known: the plain tenant policy.
    operations = [EnableTenantRLS("residentaccount")]
