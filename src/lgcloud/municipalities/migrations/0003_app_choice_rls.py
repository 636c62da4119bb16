from django.db import migrations

from lgcloud.core.postgres import EnableTenantRLS


class Migration(migrations.Migration):
    dependencies = [("municipalities", "0002_app_choice")]

    operations = [EnableTenantRLS("appchoice", policy="directory")]
