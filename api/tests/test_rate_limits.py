"""Rate limits on the whole API: API_RATE_USER per authenticated user, API_RATE_ANON per client
address for everyone else, counted in Redis for every process. Over a limit is a JSON 429 with
Retry-After until the window passes; `off` turns a limit off; a Redis that does not answer lets
requests through, with a warning, within a second or so."""

import logging
import os
import subprocess
import sys
import time
from datetime import timedelta
from http import HTTPStatus
from pathlib import Path

import pytest
import redis
from django.conf import settings as django_settings

pytestmark = pytest.mark.django_db

ROOT = Path(__file__).resolve().parents[2]


def statuses(client, times: int, path: str = "/patients", **extra) -> list[int]:
    return [client.get(path, **extra).status_code for _ in range(times)]


def test_a_user_over_their_rate_gets_a_json_429_with_retry_after(alice, settings):
    settings.API_RATE_USER = "3/min"

    allowed = statuses(alice, 3)
    refused = alice.get("/patients")

    assert allowed == [HTTPStatus.OK] * 3
    assert refused.status_code == HTTPStatus.TOO_MANY_REQUESTS
    assert refused.json()["error"].startswith("Request was throttled.")
    assert 0 < int(refused["Retry-After"]) <= 60


def test_users_are_counted_apart(alice, bob, settings):
    settings.API_RATE_USER = "3/min"
    statuses(alice, 4)

    assert bob.get("/patients").status_code == HTTPStatus.OK


def test_anonymous_clients_are_counted_by_address(anonymous, settings):
    settings.API_RATE_ANON = "2/min"

    here = statuses(anonymous, 3, "/", REMOTE_ADDR="203.0.113.7")
    elsewhere = anonymous.get("/", REMOTE_ADDR="198.51.100.8")

    assert here == [HTTPStatus.OK, HTTPStatus.OK, HTTPStatus.TOO_MANY_REQUESTS]
    assert elsewhere.status_code == HTTPStatus.OK


@pytest.mark.parametrize("authorization", [None, "Bearer 0123456789abcdef", "Basic x"])
def test_requests_refused_for_their_credentials_count_against_the_address(
    anonymous, settings, authorization
):
    settings.API_RATE_ANON = "2/min"
    if authorization:
        anonymous.credentials(HTTP_AUTHORIZATION=authorization)

    codes = statuses(anonymous, 3, REMOTE_ADDR="203.0.113.7")

    assert codes == [HTTPStatus.UNAUTHORIZED, HTTPStatus.UNAUTHORIZED, 429]
    assert anonymous.get("/patients", REMOTE_ADDR="198.51.100.8").status_code == 401


def test_requests_refused_for_a_missing_permission_count_against_the_user(mallory, settings):
    settings.API_RATE_USER = "2/min"

    codes = statuses(mallory, 3)

    assert codes == [HTTPStatus.FORBIDDEN, HTTPStatus.FORBIDDEN, 429]


def test_a_request_refused_after_the_rate_check_is_counted_once(alice, settings):
    settings.API_RATE_USER = "3/min"
    missing = "/patients/00000000-0000-0000-0000-000000000000"

    codes = statuses(alice, 3, missing) + statuses(alice, 1)

    assert codes == [HTTPStatus.NOT_FOUND] * 3 + [429]


def test_the_login_is_under_the_anonymous_rate_too(anonymous, settings):
    settings.API_RATE_ANON = "2/min"
    body = {"username": "nobody", "password": "x"}

    codes = [anonymous.post("/auth/login", body, format="json").status_code for _ in range(3)]

    assert codes == [HTTPStatus.BAD_REQUEST, HTTPStatus.BAD_REQUEST, 429]


def test_behind_a_proxy_clients_are_counted_by_the_forwarded_address(anonymous, settings):
    settings.API_RATE_ANON = "1/min"
    settings.NUM_PROXIES = 1

    first = anonymous.get("/", HTTP_X_FORWARDED_FOR="203.0.113.7")
    second = anonymous.get("/", HTTP_X_FORWARDED_FOR="198.51.100.8")
    again = anonymous.get("/", HTTP_X_FORWARDED_FOR="203.0.113.7")

    assert [first.status_code, second.status_code, again.status_code] == [200, 200, 429]


def test_the_limit_lifts_when_the_window_passes(alice, settings, time_machine):
    settings.API_RATE_USER = "2/min"
    time_machine.move_to("2026-03-02 09:00:10Z", tick=False)
    statuses(alice, 2)
    refused = alice.get("/patients")

    time_machine.shift(timedelta(seconds=50))

    assert refused.status_code == HTTPStatus.TOO_MANY_REQUESTS
    assert refused["Retry-After"] == "50"
    assert alice.get("/patients").status_code == HTTPStatus.OK


@pytest.mark.parametrize("setting", ["API_RATE_USER", "API_RATE_ANON"])
def test_off_turns_a_limit_off(alice, anonymous, settings, setting):
    settings.API_RATE_USER = settings.API_RATE_ANON = "1/min"
    setattr(settings, setting, None)  # what API_RATE_...=off gives
    client = alice if setting == "API_RATE_USER" else anonymous
    path = "/patients" if setting == "API_RATE_USER" else "/"

    assert statuses(client, 5, path) == [HTTPStatus.OK] * 5


def test_the_counts_are_kept_in_redis(alice, test_redis, settings):
    settings.API_RATE_USER = "100/min"
    statuses(alice, 3)

    store = redis.Redis.from_url(django_settings.CACHES["throttle"]["LOCATION"])
    keys = store.keys("throttle:*:user:*")

    assert len(keys) == 1
    assert int(store.get(keys[0])) == 3


def test_a_hung_redis_lets_requests_through_with_a_warning(alice, test_redis, settings, caplog):
    settings.API_RATE_USER = "1/min"
    alice.get("/patients")  # the connection is open before the server hangs
    caplog.set_level(logging.WARNING, logger="api.throttling")
    test_redis.freeze()
    try:
        started = time.monotonic()
        response = alice.get("/patients")
        elapsed = time.monotonic() - started
    finally:
        test_redis.thaw()

    assert response.status_code == HTTPStatus.OK  # over the rate, yet let through
    assert elapsed < 3, f"the request waited {elapsed:.1f}s on a hung Redis"
    assert any("rate limit user not checked" in m for m in caplog.messages)


def _settings_fail(**env) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-c", "import telehealth.settings"],
        cwd=ROOT,
        env={**os.environ, **env},
        capture_output=True,
        text=True,
    )


@pytest.mark.parametrize("rate", ["lots", "10/fortnight", "0/min", "-1/s"])
def test_a_malformed_rate_stops_the_start_up(rate):
    result = _settings_fail(API_RATE_USER=rate)

    assert result.returncode != 0
    assert "API_RATE_USER must be like 1200/min" in result.stderr
