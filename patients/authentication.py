"""Bearer token authentication: django-rest-knox tokens, stored only as hashes."""

from knox.auth import TokenAuthentication
from rest_framework.exceptions import AuthenticationFailed


class BearerTokenAuthentication(TokenAuthentication):
    """knox's authentication for `Authorization: Bearer <token>` (the scheme in any case).

    knox decodes the token as UTF-8 and would fail with a 500 on other bytes; tokens are hex,
    so anything that is not ASCII is simply a wrong token.
    """

    def authenticate_credentials(self, token: bytes):
        try:
            token.decode("ascii")
        except UnicodeDecodeError:
            raise AuthenticationFailed("Invalid token.") from None
        return super().authenticate_credentials(token)
