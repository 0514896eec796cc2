"""The login rate limit, shared by the API's token login and the session logins (the admin's
and the browsable API's), so no login form is a way around it."""

import functools

from django.core.cache import caches
from django.http import JsonResponse
from rest_framework.throttling import ScopedRateThrottle


class SharedScopedRateThrottle(ScopedRateThrottle):
    """Counts in the cache all processes share, so the rate holds for the whole service."""

    cache = caches["shared"]


class _LoginScope:
    throttle_scope = "login"


def login_throttled(view_func):
    """Apply the "login" rate (per client address) to the POSTs of a Django login view."""

    @functools.wraps(view_func)
    def wrapped(request, *args, **kwargs):
        if request.method == "POST":
            throttle = SharedScopedRateThrottle()
            if not throttle.allow_request(request, _LoginScope()):
                wait = int(throttle.wait() or 1)
                response = JsonResponse(
                    {"message": "Too many requests", "error": f"Try again in {wait} seconds."},
                    status=429,
                )
                response["Retry-After"] = str(wait)
                return response
        return view_func(request, *args, **kwargs)

    return wrapped
