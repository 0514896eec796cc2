from django.apps import AppConfig


class OpsConfig(AppConfig):
    """What operators watch: liveness, readiness, dependency status and metrics."""

    name = "ops"
    verbose_name = "Operations"
