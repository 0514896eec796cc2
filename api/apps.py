from django.apps import AppConfig
from django.core.signals import request_finished
from django.db.backends.signals import connection_created

from api.database import sqlite_files_owner_only
from api.logging import request_id_forget


class ApiConfig(AppConfig):
    """What every face of the API shares: errors, parsers, guards, throttling, pagination."""

    name = "api"
    verbose_name = "API"

    def ready(self):
        connection_created.connect(sqlite_files_owner_only, dispatch_uid="sqlite-owner-only")
        request_finished.connect(request_id_forget, dispatch_uid="request-id-forget")
