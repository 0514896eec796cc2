"""Rate limits on the whole API: per user once authenticated (API_RATE_USER), per client
address before (API_RATE_ANON).

Each client has one counter per fixed window (a minute for `/min`) in Redis, which every web
process shares. Redis increments it atomically, so concurrent requests are all counted; DRF's
own throttles instead read, extend and write back a list of timestamps, losing counts to
concurrent requests and rewriting up to a rate's worth of entries on every request.

A store that does not answer within its short timeouts lets the request through with a
warning: an outage of the rate limits must not become an outage of the API.
"""

import logging
import time

from django.conf import settings
from django.core.cache import caches
from redis.exceptions import RedisError
from rest_framework.throttling import SimpleRateThrottle

from api.clientip import client_ip

log = logging.getLogger(__name__)

CACHE_ALIAS = "throttle"


class _WindowCounterThrottle(SimpleRateThrottle):
    """A DRF throttle counting in fixed windows; `rate_setting` names its Django setting,
    read on every request (DRF's THROTTLE_RATES are read once, at import)."""

    rate_setting: str

    def __init__(self):
        self.rate = self.get_rate()
        self.num_requests, self.duration = self.parse_rate(self.rate)
        self.wait_seconds: float | None = None

    def get_rate(self) -> str | None:
        return getattr(settings, self.rate_setting)

    def allow_request(self, request, view) -> bool:
        # Counted once: a refusal raised after this is not counted again (api.exceptions'
        # THROTTLES_CHECKED, not imported: DRF's views import these classes while
        # api.exceptions is still importing them).
        request.throttles_checked = True
        if self.rate is None:
            return True
        ident = self.get_cache_key(request, view)
        if ident is None:
            return True
        now = time.time()
        window = int(now // self.duration)
        key = f"{self.scope}:{ident}:{window}"
        try:
            count = _increment(key, timeout=2 * self.duration)
        except (RedisError, OSError) as exc:
            log.warning(
                "rate limit %s not checked, its store did not answer (%s): request let through",
                self.scope,
                type(exc).__name__,
            )
            return True
        if count <= self.num_requests:
            return True
        self.wait_seconds = (window + 1) * self.duration - now
        return False

    def wait(self) -> float | None:
        return self.wait_seconds


def _increment(key: str, *, timeout: int) -> int:
    """Add one to the counter `key`, created with this timeout (seconds) if absent."""
    cache = caches[CACHE_ALIAS]
    try:
        return cache.incr(key)
    except ValueError:  # absent (Django's incr does not create)
        if cache.add(key, 1, timeout=timeout):
            return 1
        return cache.incr(key)  # another request created it meanwhile


class UserRateThrottle(_WindowCounterThrottle):
    """API_RATE_USER requests per authenticated user, from wherever they come."""

    scope = "user"
    rate_setting = "API_RATE_USER"

    def get_cache_key(self, request, view) -> str | None:
        user = request.user
        return str(user.pk) if user and user.is_authenticated else None


class AnonRateThrottle(_WindowCounterThrottle):
    """API_RATE_ANON requests per client address (api.clientip) from anyone not logged in."""

    scope = "anon"
    rate_setting = "API_RATE_ANON"

    def get_cache_key(self, request, view) -> str | None:
        user = request.user
        if user and user.is_authenticated:
            return None
        return client_ip(request) or "unknown"
