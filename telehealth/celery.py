"""The Celery app; its configuration is the CELERY_* names in telehealth.settings."""

import logging
import os

from celery import Celery
from celery.signals import after_setup_logger, after_setup_task_logger, task_prerun, worker_init

from api.logging import EscapingWrapper

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "telehealth.settings")

app = Celery("telehealth")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()


@after_setup_logger.connect
@after_setup_task_logger.connect
def _escape_worker_logs(logger, **kwargs):
    """Workers log in Celery's own format, through its handlers, not LOGGING's; these escape
    control characters too, so no text a task prints or logs (a patient's name in a notice)
    can forge a line of the worker's log."""
    for handler in logger.handlers:
        if not isinstance(handler.formatter, EscapingWrapper):
            handler.setFormatter(EscapingWrapper(handler.formatter or logging.Formatter()))


@worker_init.connect
def _relax_sqlite_sync_in_workers(**kwargs):
    """On SQLite, workers commit without waiting for the disk (WAL, synchronous=NORMAL).

    What a worker writes is delivery state, and delivery is at least once: a write lost to
    a power failure (never to a crash of the process) only makes a notice go out again,
    under the same idempotency key, so the gateway drops the copy. It halves the fsyncs of
    each delivery. Web processes, which write patient records, keep synchronous=FULL.
    """
    from django.db.backends.signals import connection_created

    connection_created.connect(_sqlite_synchronous_normal, weak=False)


def _sqlite_synchronous_normal(sender, connection, **kwargs):
    if connection.vendor == "sqlite":
        with connection.cursor() as cursor:
            cursor.execute("PRAGMA synchronous=NORMAL")


@task_prerun.connect
def _drop_broken_database_connections(**kwargs):
    """What Django does at each request: close connections that are too old or failed.

    Celery's own closing is kept off (CELERY_DB_REUSE_MAX) so a worker reuses its connection;
    this still replaces one that a database restart broke, instead of failing tasks with it.
    """
    from django.db import close_old_connections

    close_old_connections()
