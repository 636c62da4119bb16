from django.apps import AppConfig


class AuditConfig(AppConfig):
    name = "lgcloud.audit"
    label = "audit"
    verbose_name = "監査ログ"

    def ready(self) -> None:
        from lgcloud.core.postgres import APPEND_ONLY_TABLES

        from .models import AuditRecord, AuditSeal, AuditTreeHead

        for model in (AuditRecord, AuditSeal, AuditTreeHead):
            APPEND_ONLY_TABLES.add(model._meta.db_table)
