from django.apps import AppConfig


class PortabilityConfig(AppConfig):
    name = "lgcloud.portability"
    label = "portability"
    verbose_name = "データ移行（標準レイアウト）"
