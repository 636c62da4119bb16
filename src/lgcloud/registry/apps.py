from django.apps import AppConfig


class RegistryConfig(AppConfig):
    name = "lgcloud.registry"
    label = "registry"
    verbose_name = "住民記録"

    def ready(self) -> None:
        from lgcloud.core.postgres import APPEND_ONLY_TABLES

        from .models import Change, PersonVersion

        # 異動 records and the versions they produce are never edited: corrections are new rows.
        APPEND_ONLY_TABLES.update({Change._meta.db_table, PersonVersion._meta.db_table})
