from django.db import migrations

from lgcloud.core.postgres import EnableTenantRLS


class Migration(migrations.Migration):
    dependencies = [("procedures", "0001_initial")]

    # ProcedureDefinition is platform-wide reference data (no municipality column), like the municipality list.
    operations = [
        EnableTenantRLS("submission"),
        EnableTenantRLS("submissionevent"),
        EnableTenantRLS("attachment"),
    ]
