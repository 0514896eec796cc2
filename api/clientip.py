"""The address a request came from, as far as the proxies in front can be trusted.

One function for everything that keys on the client: the API's rate limits, the login lockout
and the audit trail, so all three see the same address for the same request.
"""

import ipaddress

from django.conf import settings


def ip_address_or_none(text: str | None) -> str | None:
    """`text` as a normalised IP address (IPv6 compressed), or None if it is not one."""
    if not text:
        return None
    try:
        return str(ipaddress.ip_address(text.strip()))
    except ValueError:
        return None


def client_ip(request) -> str | None:
    """REMOTE_ADDR, or with DJANGO_NUM_PROXIES proxies in front, the address the outermost of
    them saw: the Nth from the right of X-Forwarded-For, as DRF's throttles read it.

    With 0 proxies X-Forwarded-For is ignored, so a client cannot pick its own address. A
    chain shorter than N gives its leftmost entry (DRF's rule). What the chosen entry holds
    is the client's to write only if a proxy was bypassed; anything that is not an IP
    address falls back to REMOTE_ADDR. None when there is no address at all (a Unix socket).
    """
    meta = request.META
    remote = ip_address_or_none(meta.get("REMOTE_ADDR"))
    num_proxies = settings.NUM_PROXIES
    forwarded = meta.get("HTTP_X_FORWARDED_FOR")
    if num_proxies and forwarded:
        addresses = forwarded.split(",")
        return ip_address_or_none(addresses[-min(num_proxies, len(addresses))]) or remote
    return remote
