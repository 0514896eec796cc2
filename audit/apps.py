from django.apps import AppConfig


class AuditConfig(AppConfig):
    """Who looked at what: one access record per request that reads or writes patient data."""

    name = "audit"
    verbose_name = "Access audit"
