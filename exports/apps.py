from django.apps import AppConfig


class ExportsConfig(AppConfig):
    """FHIR Bulk Data export: NDJSON files written by a Celery task, kept for a while."""

    name = "exports"
    verbose_name = "Bulk exports"
