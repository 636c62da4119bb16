from django.apps import AppConfig


class TaxConfig(AppConfig):
    name = "lgcloud.tax"
    label = "tax"
    verbose_name = "個人住民税"
