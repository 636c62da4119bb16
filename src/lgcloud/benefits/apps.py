from django.apps import AppConfig


class BenefitsConfig(AppConfig):
    name = "lgcloud.benefits"
    label = "benefits"
    verbose_name = "給付"

    def ready(self) -> None:
        from lgcloud.core.postgres import APPEND_ONLY_TABLES

        from .models import ChildAllowanceEvent

        APPEND_ONLY_TABLES.add(ChildAllowanceEvent._meta.db_table)
