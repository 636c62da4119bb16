from django.apps import AppConfig


class MunicipalitiesConfig(AppConfig):
    name = "lgcloud.municipalities"
    label = "municipalities"
    verbose_name = "団体"
