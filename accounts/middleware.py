"""The session logins' (the admin's, the browsable API's) lifetime, as the API tokens': no
longer than TOKEN_MAX_AGE after the login, however much the session is used."""

import time

from django.conf import settings
from django.contrib.auth import logout

# Where the session keeps the time of its login (seconds since the epoch).
LOGIN_AT = "accounts_login_at"


def session_login_stamp(sender, request, user, **kwargs) -> None:
    """On every login (user_logged_in), the time the session's maximum life counts from."""
    if hasattr(request, "session"):
        request.session[LOGIN_AT] = int(time.time())


class SessionMaxAgeMiddleware:
    """Logs out a session older than TOKEN_MAX_AGE (the idle timeout is the session cookie's
    own age, renewed on each request: SESSION_COOKIE_AGE with SESSION_SAVE_EVERY_REQUEST)."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        user = getattr(request, "user", None)
        if user is not None and user.is_authenticated:
            login_at = request.session.get(LOGIN_AT)
            max_age = settings.TOKEN_MAX_AGE.total_seconds()
            if login_at is None or time.time() - login_at > max_age:
                logout(request)
        return self.get_response(request)
