"""Bearer token authentication: django-rest-knox tokens, stored only as hashes."""

import re

from drf_spectacular.extensions import OpenApiAuthenticationExtension
from knox.auth import TokenAuthentication
from rest_framework.exceptions import AuthenticationFailed

# knox's tokens: hex digits, after an optional prefix of letters, digits, "-" or "_".
_TOKEN_SHAPE = re.compile(rb"[A-Za-z0-9_-]{1,256}")


class BearerTokenAuthentication(TokenAuthentication):
    """knox's authentication for `Authorization: Bearer <token>` (the scheme in any case).

    knox decodes the token as UTF-8 and looks it up as given, so other bytes would be a 500
    (and a NUL one on PostgreSQL); its tokens are hex, so anything else is simply a wrong token.
    """

    def authenticate_credentials(self, token: bytes):
        if not _TOKEN_SHAPE.fullmatch(token):
            raise AuthenticationFailed("Invalid token.")
        return super().authenticate_credentials(token)


class BearerTokenScheme(OpenApiAuthenticationExtension):
    """How the OpenAPI document describes this authentication (drf-spectacular finds it by
    `target_class` once this module is imported, which DRF's settings do)."""

    target_class = "accounts.authentication.BearerTokenAuthentication"
    name = "bearerAuth"

    def get_security_definition(self, auto_schema):
        return {"type": "http", "scheme": "bearer"}
