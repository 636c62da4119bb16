from django.apps import AppConfig


class LinkageConfig(AppConfig):
    name = "lgcloud.linkage"
    label = "linkage"
    verbose_name = "連携"

    def ready(self) -> None:
        from lgcloud.core import outbox
        from lgcloud.core.postgres import APPEND_ONLY_TABLES

        from . import transfers  # noqa: F401 - registers the transfer consumer
        from .events import write_event
        from .models import DeliveryAttempt, Event

        # The feed is replayable from any cursor only if no event is ever edited or removed.
        APPEND_ONLY_TABLES.update({Event._meta.db_table, DeliveryAttempt._meta.db_table})
        outbox.register_writer(write_event)
