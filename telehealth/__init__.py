"""The telehealth project: settings, URLs, WSGI and the Celery app."""

from telehealth.celery import app as celery_app

__all__ = ("celery_app",)
