from django.apps import AppConfig


class AccountsConfig(AppConfig):
    name = "lgcloud.accounts"
    label = "accounts"
    verbose_name = "職員・利用者"
