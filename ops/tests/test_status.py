"""GET /health/status: every dependency by name (database, broker, worker, outbox), each ok or
failing with its figure; 200 when all are ok, 503 when any fails. For staff or the monitoring
system's token. Real parts: the run's redis-server (stopped, or frozen with SIGSTOP) and a real
Celery worker process with beat for the heartbeat."""

import time
from datetime import timedelta
from http import HTTPStatus

import pytest
from django.test import Client
from django.utils import timezone
from rest_framework.test import APIClient

from notifications.tests.conftest import wait_until
from notifications.tests.factories import NotificationFactory
from ops.models import WorkerHeartbeat
from ops.services import worker_heartbeat_record
from ops.tests.conftest import STAFF_PASSWORD, bearer

CHECKS = {"database", "broker", "worker", "outbox"}


def _status(client) -> tuple[int, dict]:
    response = client.get("/health/status")
    return response.status_code, response.json()


def test_status_names_every_dependency_with_its_figure(staff, test_redis):
    worker_heartbeat_record(worker="w1@host")

    code, body = _status(staff)

    assert code == HTTPStatus.OK, body
    assert body["status"] == "ok"
    assert set(body["checks"]) == CHECKS
    checks = body["checks"]
    assert checks["database"]["ok"] is True
    assert checks["database"]["latency_ms"] >= 0
    assert checks["broker"]["ok"] is True
    assert checks["broker"]["latency_ms"] >= 0
    assert checks["worker"] == {
        "ok": True,
        "age_seconds": checks["worker"]["age_seconds"],
        "max_age_seconds": 60.0,
        "workers": 1,
    }
    assert 0 <= checks["worker"]["age_seconds"] < 30
    assert checks["outbox"] == {
        "ok": True,
        "oldest_undelivered_seconds": None,
        "max_age_seconds": 900.0,
        "undelivered": 0,
    }


def test_no_heartbeat_ever_fails_the_worker_check_and_the_status(staff, test_redis):
    code, body = _status(staff)

    assert code == HTTPStatus.SERVICE_UNAVAILABLE
    assert body["status"] == "failing"
    assert body["checks"]["worker"]["ok"] is False
    assert body["checks"]["worker"]["age_seconds"] is None
    assert body["checks"]["database"]["ok"] is True


def test_a_heartbeat_older_than_the_limit_fails_the_worker_check(staff, test_redis, settings):
    settings.HEALTH_WORKER_MAX_AGE = timedelta(seconds=60)
    WorkerHeartbeat.objects.create(worker="w1@host", seen_at=timezone.now() - timedelta(minutes=2))

    code, body = _status(staff)

    assert code == HTTPStatus.SERVICE_UNAVAILABLE
    worker = body["checks"]["worker"]
    assert (worker["ok"], worker["workers"]) == (False, 0)
    assert worker["age_seconds"] >= 120


def test_a_notice_waiting_past_the_limit_fails_the_outbox_check(staff, test_redis, settings):
    worker_heartbeat_record(worker="w1@host")
    settings.HEALTH_OUTBOX_MAX_AGE = timedelta(minutes=15)
    NotificationFactory(created_at=timezone.now() - timedelta(minutes=20))
    NotificationFactory()  # a fresh one, and a delivered old one, do not count
    NotificationFactory(sent=True, created_at=timezone.now() - timedelta(hours=1))

    code, body = _status(staff)

    assert code == HTTPStatus.SERVICE_UNAVAILABLE
    outbox = body["checks"]["outbox"]
    assert (outbox["ok"], outbox["undelivered"]) == (False, 2)
    assert 20 * 60 <= outbox["oldest_undelivered_seconds"] < 25 * 60
    assert [name for name, check in body["checks"].items() if not check["ok"]] == ["outbox"]


def test_a_notice_waiting_within_the_limit_keeps_the_outbox_ok(staff, test_redis):
    worker_heartbeat_record(worker="w1@host")
    NotificationFactory(created_at=timezone.now() - timedelta(minutes=5))

    code, body = _status(staff)

    assert code == HTTPStatus.OK
    assert body["checks"]["outbox"]["ok"] is True
    assert body["checks"]["outbox"]["undelivered"] == 1


@pytest.mark.slow
def test_a_stopped_broker_fails_the_broker_check(staff, test_redis):
    worker_heartbeat_record(worker="w1@host")
    port = test_redis.port
    test_redis.stop()
    try:
        code, body = _status(staff)
    finally:
        test_redis.start(port=port)

    assert code == HTTPStatus.SERVICE_UNAVAILABLE
    assert body["checks"]["broker"] == {"ok": False, "error": "ConnectionError"}
    assert body["checks"]["database"]["ok"] is True


@pytest.mark.slow
def test_a_frozen_broker_fails_the_broker_check_within_seconds(staff, test_redis, settings):
    settings.HEALTH_CHECK_TIMEOUT = 1.0
    test_redis.freeze()
    try:
        started = time.monotonic()
        code, body = _status(staff)
        elapsed = time.monotonic() - started
    finally:
        test_redis.thaw()

    # Unbounded, a PING to a hung Redis waits for ever (redis-py has no default timeout); the
    # bound is wide for a slow machine and far below that.
    assert elapsed < 8, f"the status waited {elapsed:.1f}s on a frozen broker"
    assert code == HTTPStatus.SERVICE_UNAVAILABLE
    assert body["checks"]["broker"] == {"ok": False, "error": "TimeoutError"}


@pytest.mark.slow
@pytest.mark.django_db(transaction=True)
def test_a_real_workers_heartbeat_passes_the_worker_check(staff, test_redis, start_worker):
    code, body = _status(staff)
    assert code == HTTPStatus.SERVICE_UNAVAILABLE
    assert body["checks"]["worker"]["ok"] is False  # no worker yet

    start_worker(name="hb", beat=True, HEALTH_HEARTBEAT_INTERVAL="1s")

    body = wait_until(
        lambda: (status := _status(staff)[1])["checks"]["worker"]["ok"] and status,
        timeout=45,
        what="the worker's first heartbeat",
    )
    assert body["checks"]["worker"]["workers"] == 1
    assert WorkerHeartbeat.objects.get().worker.startswith("hb@")
    first = WorkerHeartbeat.objects.get().seen_at
    wait_until(
        lambda: WorkerHeartbeat.objects.get().seen_at > first,
        timeout=30,
        what="the next heartbeat",
    )


# Who may see it.


def test_status_without_credentials_is_401(db):
    response = APIClient().get("/health/status")

    assert response.status_code == HTTPStatus.UNAUTHORIZED
    assert response["WWW-Authenticate"] == "Bearer"
    assert response.json() == {"message": "Unauthorized"}


def test_status_for_a_user_who_is_not_staff_is_403(alice):
    response = alice.get("/health/status")

    assert response.status_code == HTTPStatus.FORBIDDEN
    assert response.json() == {"message": "Forbidden"}


def test_status_for_a_wrong_bearer_token_is_401(db, metrics_token):
    response = bearer(metrics_token + "x").get("/health/status")

    assert response.status_code == HTTPStatus.UNAUTHORIZED


def test_status_for_the_metrics_token(db, test_redis, metrics_token):
    code, body = _status(bearer(metrics_token, REMOTE_ADDR="203.0.113.9"))

    assert code in (HTTPStatus.OK, HTTPStatus.SERVICE_UNAVAILABLE)
    assert set(body["checks"]) == CHECKS


def test_the_metrics_token_is_nobodys_when_unset(db, settings):
    settings.METRICS_TOKEN = ""

    response = bearer("").get("/health/status")

    assert response.status_code == HTTPStatus.UNAUTHORIZED


def test_status_for_a_staff_session(staff_user, test_redis):
    client = Client()
    assert client.login(username=staff_user.username, password=STAFF_PASSWORD)

    code, body = _status(client)

    assert code in (HTTPStatus.OK, HTTPStatus.SERVICE_UNAVAILABLE)
    assert set(body["checks"]) == CHECKS
