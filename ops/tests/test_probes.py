"""Liveness (/healthz) and readiness (/readyz): what a load balancer or an orchestrator calls,
without credentials, answered in JSON, never with anything about a patient."""

import os
import subprocess
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from http import HTTPStatus
from pathlib import Path

import pytest
import requests
from django.test import Client
from rest_framework.test import APIClient

from ops.tests.conftest import STAFF_PASSWORD
from scripts.devstack import web_server_command
from scripts.redis_server import free_port

ROOT = Path(__file__).resolve().parents[2]


def test_healthz_is_ok_without_a_single_database_query(db, django_assert_num_queries):
    with django_assert_num_queries(0):
        response = APIClient().get("/healthz")

    assert response.status_code == HTTPStatus.OK
    assert response.json() == {"status": "ok"}


def test_healthz_ignores_credentials_it_does_not_need(db, django_assert_num_queries):
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION="Bearer not-a-token")

    with django_assert_num_queries(0):
        response = client.get("/healthz/", HTTP_ACCEPT="text/html")

    assert response.status_code == HTTPStatus.OK
    assert response["Content-Type"] == "application/json"
    assert response.json() == {"status": "ok"}


def test_readyz_is_ok_when_the_database_answers(db):
    response = APIClient().get("/readyz")

    assert response.status_code == HTTPStatus.OK
    assert response.json() == {"status": "ok"}  # and nothing else: no patient, no figure


def test_readyz_runs_no_query_on_the_requests_own_connection(db, django_assert_num_queries):
    # Its SELECT 1 goes through a connection of its own, bounded in time.
    with django_assert_num_queries(0):
        response = APIClient().get("/readyz")

    assert response.status_code == HTTPStatus.OK


def test_a_hung_database_check_fails_readiness_within_the_timeout(db, settings):
    # A check that cannot start (the one before it still hangs) fails at the timeout.
    from ops import selectors

    release = selectors._database_thread().submit(time.sleep, 3)
    settings.HEALTH_CHECK_TIMEOUT = 0.5
    started = time.monotonic()
    response = APIClient().get("/readyz")
    elapsed = time.monotonic() - started
    release.result()

    assert response.status_code == HTTPStatus.SERVICE_UNAVAILABLE
    assert response.json() == {"status": "unavailable"}
    assert elapsed < 2.5, f"readiness waited {elapsed:.1f}s behind a hung check"


@pytest.fixture
def server_with(tmp_path):
    """The web server as `make run` runs it, on a database URL of the test's choosing."""
    processes = []

    def start(database_url: str) -> str:
        env = {**os.environ, "DATABASE_URL": database_url, "WEB_CONCURRENCY": "1"}
        port = free_port()
        log = tmp_path / "server.log"
        with log.open("w") as out:
            processes.append(
                subprocess.Popen(
                    web_server_command(port), cwd=ROOT, env=env, stdout=out, stderr=out
                )
            )
        url = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + 30
        while True:
            assert processes[-1].poll() is None, log.read_text()
            try:
                requests.get(url + "/healthz", timeout=2)
                return url
            except requests.ConnectionError:
                assert time.monotonic() < deadline, log.read_text()
                time.sleep(0.1)

    yield start
    for process in processes:
        process.terminate()
        process.wait(timeout=30)


@pytest.mark.slow
@pytest.mark.parametrize(
    "database_url",
    [
        # A directory that does not exist: SQLite cannot open the file.
        "sqlite:////nonexistent-opsh-dir/db.sqlite3",
        # A closed port: PostgreSQL refuses the connection.
        "postgres://postgres@127.0.0.1:1/telehealth",
    ],
    ids=["sqlite-missing-directory", "postgres-closed-port"],
)
def test_readyz_is_503_and_healthz_200_when_the_database_is_unreachable(server_with, database_url):
    url = server_with(database_url)

    ready = requests.get(url + "/readyz", timeout=10)
    alive = requests.get(url + "/healthz", timeout=10)

    assert ready.status_code == HTTPStatus.SERVICE_UNAVAILABLE
    assert ready.json() == {"status": "unavailable"}
    assert alive.status_code == HTTPStatus.OK
    assert alive.json() == {"status": "ok"}


# A session cookie sent with a probe (a browser, a logged-in operator's curl).


@pytest.fixture
def logged_in(staff_user) -> Client:
    client = Client()
    assert client.login(username=staff_user.username, password=STAFF_PASSWORD)
    return client


def test_healthz_with_a_session_cookie_makes_no_query(logged_in, django_assert_num_queries):
    with django_assert_num_queries(0):
        response = logged_in.get("/healthz")

    assert response.status_code == HTTPStatus.OK
    assert response.json() == {"status": "ok"}
    assert "sessionid" not in response.cookies  # not saved, so not renewed either


def test_readyz_with_a_session_cookie_reads_no_session(logged_in, django_assert_num_queries):
    # Its SELECT 1 is on the check's own connection; the request's runs nothing.
    with django_assert_num_queries(0):
        response = logged_in.get("/readyz/")

    assert response.status_code == HTTPStatus.OK
    assert response.json() == {"status": "ok"}


# Checks do not pile up behind a hung one.


@pytest.fixture
def hung_select(monkeypatch):
    """The check's SELECT 1 hangs until released; how many times it ran."""
    from ops import selectors

    release, calls = threading.Event(), []

    def hang():
        calls.append(1)
        release.wait(10)

    monkeypatch.setattr(selectors, "_select_one", hang)
    yield release, calls
    release.set()


def test_a_check_while_a_hung_one_runs_fails_at_once_and_none_is_queued(hung_select):
    from ops.selectors import _database_thread, database_check

    release, calls = hung_select
    first = database_check(timeout=0.3)
    started = time.monotonic()
    second = database_check(timeout=5)
    elapsed = time.monotonic() - started
    release.set()
    _database_thread().submit(lambda: None).result(timeout=10)  # all that was queued has run

    assert first == {"ok": False, "error": "no answer within 0.3s"}
    assert second == {"ok": False, "error": "the check before has not answered yet"}
    assert elapsed < 2.5, f"the second check waited {elapsed:.1f}s behind a hung one"
    assert len(calls) == 1, "a stale check ran after the hung one"


def test_probes_at_the_same_moment_share_one_check(monkeypatch):
    from ops import selectors

    calls = []

    def slow_select():
        calls.append(1)
        time.sleep(0.3)

    monkeypatch.setattr(selectors, "_select_one", slow_select)
    with ThreadPoolExecutor(max_workers=3) as pool:
        results = list(pool.map(lambda _: selectors.database_check(timeout=5), range(3)))

    assert [result["ok"] for result in results] == [True, True, True]
    assert len(calls) < 3
