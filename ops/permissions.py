"""Who may see the dependency status and the metrics: staff, or the monitoring system's token
(METRICS_TOKEN); without a token, /metrics only to this machine."""

import ipaddress

from django.conf import settings
from rest_framework.exceptions import PermissionDenied
from rest_framework.permissions import BasePermission


class _MetricsToken:
    """`request.auth` of a request that sent METRICS_TOKEN (ops.authentication)."""

    def __repr__(self) -> str:
        return "<metrics token>"


METRICS_TOKEN_AUTH = _MetricsToken()


def _from_metrics_token(request) -> bool:
    return request.auth is METRICS_TOKEN_AUTH


def _is_loopback(address: str | None) -> bool:
    try:
        ip = ipaddress.ip_address((address or "").strip())
    except ValueError:
        return False
    mapped = getattr(ip, "ipv4_mapped", None)  # ::ffff:127.0.0.1 from a dual-stack socket
    return (mapped or ip).is_loopback


class StaffOrMetricsToken(BasePermission):
    """A staff user (token or session), or the METRICS_TOKEN bearer."""

    def has_permission(self, request, view) -> bool:
        if _from_metrics_token(request):
            return True
        user = request.user
        return bool(user and user.is_authenticated and user.is_staff)


# Headers a proxy adds for the client it forwards: their presence says the connection, though
# from loopback, carries someone else's request (a proxy on this host, DJANGO_NUM_PROXIES or not).
_FORWARDING_HEADERS = (
    "HTTP_X_FORWARDED_FOR",
    "HTTP_FORWARDED",
    "HTTP_X_FORWARDED_PROTO",
    "HTTP_X_REAL_IP",
)


def _forwarded(request) -> bool:
    return any(header in request.META for header in _FORWARDING_HEADERS)


class MetricsScrape(BasePermission):
    """With METRICS_TOKEN set: its bearer only (401 otherwise). Unset: connections from
    loopback, and only when DJANGO_NUM_PROXIES is 0 and the request names no forwarded client
    (403 otherwise): behind a proxy, the connection's address is the proxy's, which may well be
    loopback, whoever the client is."""

    def has_permission(self, request, view) -> bool:
        if settings.METRICS_TOKEN:
            return _from_metrics_token(request)
        loopback = _is_loopback(request.META.get("REMOTE_ADDR"))
        if settings.NUM_PROXIES == 0 and loopback and not _forwarded(request):
            return True
        raise PermissionDenied(
            "Metrics are served to loopback only (with no proxy in front): set METRICS_TOKEN"
        )
