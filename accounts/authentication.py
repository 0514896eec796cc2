"""Bearer token authentication: django-rest-knox tokens, stored only as hashes; a login's
token lives on while it is used (TOKEN_IDLE_TIMEOUT), up to TOKEN_MAX_AGE."""

import re

from drf_spectacular.extensions import OpenApiAuthenticationExtension
from knox.auth import TokenAuthentication
from rest_framework.exceptions import AuthenticationFailed

from accounts.tokens import token_authenticate

# knox's tokens: hex digits, after an optional prefix of letters, digits, "-" or "_".
_TOKEN_SHAPE = re.compile(rb"[A-Za-z0-9_-]{1,256}")


class BearerTokenAuthentication(TokenAuthentication):
    """knox's authentication for `Authorization: Bearer <token>` (the scheme in any case).

    knox decodes the token as UTF-8 and looks it up as given, so other bytes would be a 500
    (and a NUL one on PostgreSQL); its tokens are hex, so anything else is simply a wrong token.

    The lookup is accounts.tokens.token_authenticate: one query where knox's takes three
    (it also reads all the user's other tokens on every request). knox's own AUTO_REFRESH
    would push every token's expiry to knox's TOKEN_TTL from now, shortening an
    integration's 90-day token as readily as it extends a login's; here only tokens from
    /auth/login are moved on.
    """

    def authenticate_credentials(self, token: bytes):
        if not _TOKEN_SHAPE.fullmatch(token):
            raise AuthenticationFailed("Invalid token.")
        auth_token = token_authenticate(token=token.decode("ascii"))
        if auth_token is None:
            raise AuthenticationFailed("Invalid token.")
        return self.validate_user(auth_token)


class BearerTokenScheme(OpenApiAuthenticationExtension):
    """How the OpenAPI document describes this authentication (drf-spectacular finds it by
    `target_class` once this module is imported, which DRF's settings do)."""

    target_class = "accounts.authentication.BearerTokenAuthentication"
    name = "bearerAuth"

    def get_security_definition(self, auto_schema):
        return {"type": "http", "scheme": "bearer"}
