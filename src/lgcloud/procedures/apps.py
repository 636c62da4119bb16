from django.apps import AppConfig


class ProceduresConfig(AppConfig):
    name = "lgcloud.procedures"
    label = "procedures"
    verbose_name = "行政手続オンライン化"

    def ready(self) -> None:
        from lgcloud.core.postgres import APPEND_ONLY_TABLES

        from .models import SubmissionEvent

        # A submission's history is only ever appended to.
        APPEND_ONLY_TABLES.add(SubmissionEvent._meta.db_table)
