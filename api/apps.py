from django.apps import AppConfig


class ApiConfig(AppConfig):
    """What every face of the API shares: errors, parsers, guards, throttling, pagination."""

    name = "api"
    verbose_name = "API"
