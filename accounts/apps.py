from django.apps import AppConfig


class AccountsConfig(AppConfig):
    """Staff users, roles and API tokens."""

    name = "accounts"
    verbose_name = "Accounts"
