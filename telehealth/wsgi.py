"""The WSGI application, for any WSGI server; `make run` serves it through telehealth/asgi.py."""

import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "telehealth.settings")

application = get_wsgi_application()
