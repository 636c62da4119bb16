from django.apps import AppConfig


class BenefitsConfig(AppConfig):
    name = "lgcloud.benefits"
    label = "benefits"
    verbose_name = "給付"
