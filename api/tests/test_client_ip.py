"""api.clientip.client_ip: the one address the rate limits, the login lockout and the audit
key on. X-Forwarded-For counts only with DJANGO_NUM_PROXIES proxies in front, and then only
the entry the outermost of them wrote."""

import pytest
from django.test import RequestFactory

from api.clientip import client_ip


def request(remote="10.0.0.1", forwarded=None):
    extra = {"REMOTE_ADDR": remote}
    if forwarded is not None:
        extra["HTTP_X_FORWARDED_FOR"] = forwarded
    return RequestFactory().get("/", **extra)


def test_without_proxies_x_forwarded_for_is_ignored(settings):
    settings.NUM_PROXIES = 0

    assert client_ip(request(forwarded="203.0.113.9")) == "10.0.0.1"


@pytest.mark.parametrize(
    ("proxies", "forwarded", "expected"),
    [
        (1, "203.0.113.9", "203.0.113.9"),
        (1, "198.51.100.1, 203.0.113.9", "203.0.113.9"),  # the client's own invention first
        (2, "198.51.100.1, 203.0.113.9, 10.1.1.1", "203.0.113.9"),
        (2, "203.0.113.9", "203.0.113.9"),  # shorter than the proxies: the leftmost
        (1, "2001:DB8:0:0:0:0:0:1", "2001:db8::1"),
    ],
)
def test_with_proxies_the_entry_the_outermost_proxy_wrote(settings, proxies, forwarded, expected):
    settings.NUM_PROXIES = proxies

    assert client_ip(request(forwarded=forwarded)) == expected


@pytest.mark.parametrize("forwarded", ["not-an-address", "", " , ", "203.0.113.9:443"])
def test_a_forwarded_entry_that_is_no_address_falls_back_to_the_connection(settings, forwarded):
    settings.NUM_PROXIES = 1

    assert client_ip(request(forwarded=forwarded)) == "10.0.0.1"


def test_no_address_at_all_is_none(settings):
    req = RequestFactory().get("/")
    del req.META["REMOTE_ADDR"]

    assert client_ip(req) is None
