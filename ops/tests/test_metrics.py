"""GET /metrics: the Prometheus text format, for the METRICS_TOKEN bearer or (with no token
set and no proxy in front) for loopback; requests by URL pattern, method and status; the
outbox read from the database at scrape time; logins failed and locked out. No label carries
an id, a name or anything else of a patient's."""

import re
from datetime import timedelta
from http import HTTPStatus

import pytest
from django.utils import timezone
from rest_framework.test import APIClient

from accounts.tests.clients import login
from accounts.tests.factories import UserFactory
from notifications.models import Channel
from notifications.tests.factories import NotificationFactory
from ops.middleware import _template
from ops.services import worker_heartbeat_record
from ops.tests.conftest import bearer, samples, value

pytestmark = pytest.mark.django_db

UUID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}", re.IGNORECASE)


# Who may scrape.


@pytest.mark.parametrize("address", ["127.0.0.1", "::1", "::ffff:127.0.0.1"])
def test_without_a_token_loopback_may_scrape(address):
    response = APIClient(REMOTE_ADDR=address).get("/metrics")

    assert response.status_code == HTTPStatus.OK
    assert response["Content-Type"] == "text/plain; version=0.0.4; charset=utf-8"
    assert "# TYPE telehealth_http_requests_total counter" in response.content.decode()


def test_without_a_token_another_address_is_403():
    response = APIClient(REMOTE_ADDR="203.0.113.9").get("/metrics")

    assert response.status_code == HTTPStatus.FORBIDDEN
    assert response.json() == {"message": "Forbidden"}


def test_without_a_token_behind_a_proxy_even_loopback_is_403(settings):
    settings.NUM_PROXIES = 1  # the proxy's connection comes from loopback, whoever sent it

    response = APIClient(REMOTE_ADDR="127.0.0.1").get("/metrics", HTTP_X_FORWARDED_FOR="127.0.0.1")

    assert response.status_code == HTTPStatus.FORBIDDEN


@pytest.mark.parametrize(
    "header",
    ["X_FORWARDED_FOR", "FORWARDED", "X_FORWARDED_PROTO", "X_REAL_IP"],
)
def test_without_a_token_a_request_forwarded_by_a_proxy_on_this_host_is_403(header):
    # A proxy on this host connects from loopback; DJANGO_NUM_PROXIES left at 0 by mistake.
    client = APIClient(REMOTE_ADDR="127.0.0.1")

    response = client.get("/metrics", **{f"HTTP_{header}": "203.0.113.9"})

    assert response.status_code == HTTPStatus.FORBIDDEN
    assert response.json() == {"message": "Forbidden"}


def test_with_a_token_its_bearer_may_scrape_from_anywhere(metrics_token, settings):
    settings.NUM_PROXIES = 1

    response = bearer(metrics_token, REMOTE_ADDR="203.0.113.9").get("/metrics")

    assert response.status_code == HTTPStatus.OK
    assert b"telehealth_http_requests_total" in response.content


@pytest.mark.parametrize(
    "authorization",
    [None, "Bearer wrong-token", "Basic bWV0cmljczp4"],
    ids=["none", "wrong-token", "basic"],
)
def test_with_a_token_set_anything_else_is_401_even_from_loopback(metrics_token, authorization):
    client = APIClient(REMOTE_ADDR="127.0.0.1")
    if authorization:
        client.credentials(HTTP_AUTHORIZATION=authorization)

    response = client.get("/metrics")

    assert response.status_code == HTTPStatus.UNAUTHORIZED
    assert response["WWW-Authenticate"] == "Bearer"
    assert response.json() == {"message": "Unauthorized"}


def test_with_a_token_set_a_staff_users_api_token_does_not_scrape(metrics_token, staff):
    response = staff.get("/metrics")

    assert response.status_code == HTTPStatus.UNAUTHORIZED


def test_a_scraper_asking_for_openmetrics_gets_the_text_format(scrape):
    response = APIClient().get(
        "/metrics",
        HTTP_ACCEPT="application/openmetrics-text;version=1.0.0,text/plain;version=0.0.4;q=0.5",
    )

    assert response.status_code == HTTPStatus.OK
    assert response["Content-Type"].startswith("text/plain; version=0.0.4")


# What it counts.


def test_requests_are_counted_by_url_pattern_method_and_status(alice, scrape):
    patient_id = alice.post(
        "/patients",
        {"name": "Ann Marlowe", "email": "ann@example.com", "phone": "+15550101234"},
        format="json",
    ).json()["patient_id"]
    labels = {"route": "patients/<pk>", "method": "GET"}
    before = scrape()

    alice.get(f"/patients/{patient_id}")
    alice.get(f"/patients/{patient_id}/")
    alice.get("/patients/00000000-0000-4000-8000-000000000000")
    after = scrape()

    def delta(name, **extra):
        return value(after, name, **labels, **extra) - value(before, name, **labels, **extra)

    assert delta("telehealth_http_requests_total", status="200") == 2
    assert delta("telehealth_http_requests_total", status="404") == 1
    assert delta("telehealth_http_request_duration_seconds_count", status="200") == 2
    assert delta("telehealth_http_request_duration_seconds_sum", status="200") > 0
    assert delta("telehealth_http_request_duration_seconds_bucket", status="200", le="+Inf") == 2


def test_unknown_paths_and_methods_get_fixed_labels(scrape):
    before = scrape()

    APIClient().get("/no/such/page/ann@example.com")
    APIClient().generic("BREW", "/healthz")
    after = scrape()

    unmatched = {"route": "<unmatched>", "method": "GET", "status": "404"}
    other = {"route": "healthz", "method": "other", "status": "405"}
    for labels in (unmatched, other):
        counted = value(after, "telehealth_http_requests_total", **labels)
        assert counted - value(before, "telehealth_http_requests_total", **labels) == 1
    assert "BREW" not in after


def test_no_label_carries_an_id_a_name_an_email_or_a_phone(alice, scrape):
    ann = {"name": "Ann Marlowe", "email": "ann@example.com", "phone": "+15550101234"}
    created = alice.post("/patients", ann, format="json").json()
    patient_id = created["patient_id"]
    alice.get(f"/patients/{patient_id}")
    alice.patch(f"/patients/{patient_id}", {"name": "Ann Quill"}, format="json")
    alice.get(f"/patients/{patient_id}/history")
    alice.get("/patients", {"search": "ann@example.com"})
    alice.get("/patients", {"search": "+15550101234"})
    alice.get(f"/no/such/{patient_id}/ann@example.com")
    APIClient().get(f"/patients/{patient_id}")  # a 401, counted too

    text = scrape()

    label_values = {value for _, labels in samples(text) for _, value in labels}
    assert "patients/<pk>" in label_values  # the requests were counted, by their pattern
    assert not UUID.search(text)
    for secret in ("ann@example.com", "5550101234", "Marlowe", "Quill", "alice"):
        assert secret.lower() not in text.lower(), secret
    assert not [value for value in label_values if "ann" in value.lower()]  # the first name


def test_the_outbox_is_read_from_the_database_at_scrape_time(scrape):
    NotificationFactory(sent=True, attempts=2)
    NotificationFactory(sent=True)
    NotificationFactory(failed=True, email=True, attempts=5)
    NotificationFactory(skipped=True)
    NotificationFactory(created_at=timezone.now() - timedelta(minutes=30))  # pending
    NotificationFactory(sending=True, email=True)

    text = scrape()

    def notifications(status, channel):
        return value(text, "telehealth_notifications", status=status, channel=channel)

    assert notifications("sent", Channel.SMS) == 2
    assert notifications("failed", Channel.EMAIL) == 1
    assert notifications("skipped", Channel.SMS) == 1
    assert notifications("pending", Channel.SMS) == 1
    assert notifications("sending", Channel.EMAIL) == 1
    assert notifications("sent", Channel.EMAIL) == 0  # every pair is there, at 0 too
    outcomes = "telehealth_notification_outcomes_total"
    assert value(text, outcomes, outcome="sent", channel="sms") == 2
    assert value(text, outcomes, outcome="failed", channel="email") == 1
    assert not any(
        name == outcomes and dict(labels)["outcome"] == "pending" for name, labels in samples(text)
    )
    attempts = "telehealth_notification_delivery_attempts_total"
    assert value(text, attempts, channel="sms") == 3  # 2 + 1 + 0 + 0
    assert value(text, attempts, channel="email") == 6  # 5 + 1
    assert value(text, "telehealth_notifications_undelivered") == 2
    oldest = value(text, "telehealth_notifications_oldest_undelivered_age_seconds")
    assert 30 * 60 <= oldest < 35 * 60
    assert value(text, "telehealth_metrics_database_up") == 1


def test_an_empty_outbox_and_no_worker_read_as_zero_and_infinity(scrape):
    text = scrape()

    assert value(text, "telehealth_notifications_oldest_undelivered_age_seconds") == 0
    assert value(text, "telehealth_worker_heartbeat_age_seconds") == float("inf")
    assert value(text, "telehealth_workers_alive") == 0


def test_the_worker_heartbeat_is_in_the_metrics(scrape):
    worker_heartbeat_record(worker="w1@host")

    text = scrape()

    assert 0 <= value(text, "telehealth_worker_heartbeat_age_seconds") < 30
    assert value(text, "telehealth_workers_alive") == 1
    assert "w1@host" not in text


def test_failed_logins_and_lockouts_are_counted_without_who_or_where(scrape, settings):
    settings.LOGIN_LOCKOUT_USER_FAILURES = 3
    UserFactory(username="dora", password="correct horse battery", staff=True)
    before = scrape()

    statuses = [login("dora", "wrong", REMOTE_ADDR="198.51.100.7").status_code for _ in range(3)]
    refused = login("dora", "correct horse battery", REMOTE_ADDR="198.51.100.7")
    after = scrape()

    def delta(name, **labels):
        return value(after, name, **labels) - value(before, name, **labels)

    assert statuses == [HTTPStatus.BAD_REQUEST] * 3
    assert refused.status_code == HTTPStatus.TOO_MANY_REQUESTS
    assert delta("telehealth_login_failures_total") == 3
    assert delta("telehealth_login_lockouts_total", scope="username") == 1
    assert delta("telehealth_login_lockouts_total", scope="address") == 0
    assert delta("telehealth_login_refusals_total") == 1
    assert "dora" not in after
    assert "198.51.100.7" not in after


@pytest.mark.parametrize(
    ("route", "label"),
    [
        (r"^patients/(?P<pk>[^/.]+)/?$", "patients/<pk>"),
        (r"^patients/?$", "patients"),
        (
            r"^patients/(?P<pk>[^/.]+)/history/(?P<version>[0-9]+)/?$",
            "patients/<pk>/history/<version>",
        ),
        ("admin/auth/user/<path:object_id>/change/", "admin/auth/user/<object_id>/change"),
        (r"fhir/Patient/\$export/?$", "fhir/Patient/$export"),
        (
            r"fhir/Patient/(?P<id>[A-Za-z0-9\-\.]{1,64})(?:/_history)?$",
            "fhir/Patient/<id>(?:/_history)?",
        ),
        ("", "/"),
    ],
)
def test_a_route_label_is_its_url_pattern_as_a_template(route, label):
    assert _template(route) == label
