"""WSGI entry point for gunicorn: `gunicorn telehealth.wsgi`."""

import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "telehealth.settings")

application = get_wsgi_application()
