"""The login rate limit, shared by the API's token login and the session logins (the admin's
and the browsable API's), so no login form is a way around it."""

from django.core.cache import caches
from rest_framework.throttling import ScopedRateThrottle


class SharedScopedRateThrottle(ScopedRateThrottle):
    """Counts in the cache all processes share, so the rate holds for the whole service."""

    cache = caches["shared"]


class _LoginScope:
    throttle_scope = "login"


def login_wait(request) -> int | None:
    """Count a login attempt from this client under the "login" rate: None while it is within
    the rate, else how many seconds it must wait."""
    throttle = SharedScopedRateThrottle()
    if throttle.allow_request(request, _LoginScope()):
        return None
    return int(throttle.wait() or 1)
