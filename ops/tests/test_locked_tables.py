"""/health/status and /metrics answer within seconds while another connection holds a table
locked: their reads of the outbox and the heartbeats are bounded by HEALTH_CHECK_TIMEOUT, as
the database check is. PostgreSQL: a real second connection holds `LOCK TABLE`."""

import threading
import time
from http import HTTPStatus

import pytest
from django.db import connection
from rest_framework.test import APIClient

from ops.services import worker_heartbeat_record
from ops.tests.conftest import samples

pytestmark = pytest.mark.skipif(
    connection.vendor != "postgresql",
    reason="SQLite readers (WAL) wait on no lock; its busy timeout bounds writers' locks",
)

# Without the bound, the reads wait for the lock: it is let go after this, so a missing bound
# fails the test on time instead of hanging it.
HOLD = 12


@pytest.fixture
def locked(db, settings):
    """Another connection holds a table in ACCESS EXCLUSIVE mode (no read gets through)."""
    settings.HEALTH_CHECK_TIMEOUT = 1.0
    holders = []

    def lock(table: str) -> None:
        other = connection.get_new_connection(connection.get_connection_params())
        holders.append(other)
        other.execute("SET lock_timeout = '5s'")  # never waits for ever on the test's own locks
        other.execute(f"LOCK TABLE {table} IN ACCESS EXCLUSIVE MODE")  # in its transaction
        threading.Timer(HOLD, other.close).start()

    yield lock
    for other in holders:
        other.close()


def _timed(call):
    started = time.monotonic()
    response = call()
    return response, time.monotonic() - started


def test_a_locked_outbox_fails_its_check_within_seconds(staff, test_redis, locked):
    worker_heartbeat_record(worker="w1@host")
    locked("notifications_notification")

    response, elapsed = _timed(lambda: staff.get("/health/status"))

    assert elapsed < 8, f"the status waited {elapsed:.1f}s on a locked table"
    assert response.status_code == HTTPStatus.SERVICE_UNAVAILABLE
    checks = response.json()["checks"]
    assert checks["outbox"] == {"ok": False, "error": "no answer within 1s"}
    assert checks["database"]["ok"] is True
    assert checks["worker"]["ok"] is True  # its table is not locked


def test_a_locked_outbox_leaves_metrics_without_the_database_figures(db, locked):
    locked("notifications_notification")

    response, elapsed = _timed(lambda: APIClient().get("/metrics"))

    assert elapsed < 8, f"the scrape waited {elapsed:.1f}s on a locked table"
    assert response.status_code == HTTPStatus.OK
    text = response.content.decode()
    assert samples(text)[("telehealth_metrics_database_up", frozenset())] == 0
    assert "telehealth_notifications_undelivered" not in text
    assert "telehealth_http_requests_total" in text  # the process's counters are still there
