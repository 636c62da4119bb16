from django.apps import AppConfig


class CoreConfig(AppConfig):
    name = "lgcloud.core"
    label = "core"
    verbose_name = "共通基盤"

    def ready(self) -> None:
        from lgcloud.core import checks, postgres  # noqa: F401  (registers checks and signal handlers)
