"""The monitoring system's credentials: `Authorization: Bearer <METRICS_TOKEN>`."""

import hmac

from django.conf import settings
from django.contrib.auth.models import AnonymousUser
from drf_spectacular.extensions import OpenApiAuthenticationExtension
from rest_framework.authentication import BaseAuthentication, get_authorization_header

from ops.permissions import METRICS_TOKEN_AUTH


class MetricsTokenAuthentication(BaseAuthentication):
    """The METRICS_TOKEN bearer, compared in constant time: no user, `request.auth` is
    METRICS_TOKEN_AUTH. Any other credentials are left to the authentication classes after
    this one (a staff user's API token is a bearer token too)."""

    def authenticate(self, request):
        expected = settings.METRICS_TOKEN
        if not expected:
            return None
        parts = get_authorization_header(request).split()
        if len(parts) != 2 or parts[0].lower() != b"bearer":
            return None
        if not hmac.compare_digest(parts[1], expected.encode()):
            return None
        return AnonymousUser(), METRICS_TOKEN_AUTH

    def authenticate_header(self, request) -> str:
        return "Bearer"


class MetricsTokenScheme(OpenApiAuthenticationExtension):
    """How the OpenAPI document names this credential (drf-spectacular finds it by
    `target_class` once this module is imported, which the ops views do)."""

    target_class = "ops.authentication.MetricsTokenAuthentication"
    name = "metricsToken"

    def get_security_definition(self, auto_schema):
        return {
            "type": "http",
            "scheme": "bearer",
            "description": "The monitoring system's token, METRICS_TOKEN (not a user's).",
        }
