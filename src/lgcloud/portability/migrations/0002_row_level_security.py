from django.db import migrations

from lgcloud.core.postgres import EnableTenantRLS


class Migration(migrations.Migration):
    dependencies = [("portability", "0001_initial")]

    operations = [EnableTenantRLS("exportrequest")]
