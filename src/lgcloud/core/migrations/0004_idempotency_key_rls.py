from django.db import migrations

from lgcloud.core.postgres import EnableTenantRLS


class Migration(migrations.Migration):
    dependencies = [("core", "0003_idempotency_key")]

    operations = [EnableTenantRLS("idempotencykey")]
