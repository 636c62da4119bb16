from django.apps import AppConfig


class OpsConfig(AppConfig):
    name = "lgcloud.ops"
    label = "ops"
    verbose_name = "運用監視"
