"""The ASGI entry point the web server runs (`granian --interface asginl telehealth.asgi:app`):
Django's WSGI application behind a front that reads each request whole first
(api.serving), so slow clients wait on the event loop instead of holding threads."""

import os

from django.conf import settings
from django.core.wsgi import get_wsgi_application

from api.serving import WSGIFront

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "telehealth.settings")

application = WSGIFront(
    get_wsgi_application(),
    threads=settings.WEB_THREADS,
    body_timeout=settings.WEB_BODY_TIMEOUT,
    max_body=settings.MAX_REQUEST_BODY_BYTES,
    max_waiting=settings.WEB_MAX_WAITING,
)
