"""The login lockout: 5 failed logins for one username from one address, or 20 from one address
for any usernames, within 15 minutes refuse that address (429) until the window has passed,
the right password included. /auth/login, the admin's and the browsable API's logins count
together; the counts are database rows that other addresses cannot evict and that concurrent
attempts cannot slip past."""

import logging
import sqlite3
import threading
from datetime import timedelta
from http import HTTPStatus

import pytest
from django.db import connection
from django.test import Client
from knox.models import AuthToken

from accounts.services import login_attempt_begin
from accounts.tests.clients import login
from accounts.tests.factories import UserFactory

PASSWORD = "correct horse battery"
WRONG = "wrong password"


@pytest.fixture
def dora(db):
    return UserFactory(username="dora", password=PASSWORD, staff=True)


def fail(username: str, times: int, **extra) -> list[int]:
    return [login(username, WRONG, **extra).status_code for _ in range(times)]


def test_login_is_locked_after_five_failures_even_with_the_right_password(dora):
    statuses = fail("dora", 5)

    refused = login("dora", PASSWORD)

    assert statuses == [HTTPStatus.BAD_REQUEST] * 5
    assert refused.status_code == HTTPStatus.TOO_MANY_REQUESTS
    assert refused.json()["error"].startswith("Too many failed logins from your address.")
    assert 0 < int(refused["Retry-After"]) <= 15 * 60
    assert not AuthToken.objects.exists()


def test_twenty_failures_for_different_usernames_lock_the_address(dora):
    statuses = [login(f"nobody{n}", WRONG).status_code for n in range(20)]

    refused = login("dora", PASSWORD)

    assert statuses == [HTTPStatus.BAD_REQUEST] * 20
    assert refused.status_code == HTTPStatus.TOO_MANY_REQUESTS


def test_another_address_is_not_locked(dora):
    fail("dora", 5, REMOTE_ADDR="203.0.113.7")

    response = login("dora", PASSWORD, REMOTE_ADDR="198.51.100.8")

    assert login("dora", PASSWORD, REMOTE_ADDR="203.0.113.7").status_code == 429
    assert response.status_code == HTTPStatus.OK


def test_the_lockout_ends_when_the_window_passes(dora, time_machine):
    time_machine.move_to("2026-03-02 09:00:00Z", tick=False)
    fail("dora", 5)

    time_machine.shift(timedelta(minutes=14, seconds=59))
    still_locked = login("dora", PASSWORD)
    time_machine.shift(timedelta(seconds=2))
    response = login("dora", PASSWORD)

    assert still_locked.status_code == HTTPStatus.TOO_MANY_REQUESTS
    assert int(still_locked["Retry-After"]) == 1
    assert response.status_code == HTTPStatus.OK


def test_a_successful_login_forgives_that_usernames_failures(dora):
    fail("dora", 4)
    assert login("dora", PASSWORD).status_code == HTTPStatus.OK

    statuses = fail("dora", 5)

    assert statuses == [HTTPStatus.BAD_REQUEST] * 5
    assert login("dora", PASSWORD).status_code == HTTPStatus.TOO_MANY_REQUESTS


def test_failures_from_320_other_addresses_do_not_evict_the_count(dora):
    fail("dora", 5, REMOTE_ADDR="203.0.113.7")

    # The old cache held 300 entries: 320 other clients' counts pushed this one out.
    for n in range(320):
        login_attempt_begin(username=f"user{n}", ip=f"10.0.{n // 256}.{n % 256}")

    assert login("dora", PASSWORD, REMOTE_ADDR="203.0.113.7").status_code == 429


def test_a_forged_x_forwarded_for_does_not_dodge_the_lockout(dora):
    statuses = [
        login("dora", WRONG, HTTP_X_FORWARDED_FOR=f"203.0.113.{n}").status_code for n in range(6)
    ]

    assert statuses[5] == HTTPStatus.TOO_MANY_REQUESTS


def test_behind_a_proxy_the_address_it_forwarded_is_locked(dora, settings):
    settings.NUM_PROXIES = 1
    fail("dora", 5, HTTP_X_FORWARDED_FOR="203.0.113.7", REMOTE_ADDR="10.0.0.1")

    other = login("dora", PASSWORD, HTTP_X_FORWARDED_FOR="198.51.100.8", REMOTE_ADDR="10.0.0.1")
    same = login("dora", PASSWORD, HTTP_X_FORWARDED_FOR="203.0.113.7", REMOTE_ADDR="10.0.0.1")

    assert other.status_code == HTTPStatus.OK
    assert same.status_code == HTTPStatus.TOO_MANY_REQUESTS


def test_the_lockout_is_logged_with_the_address_but_not_the_username_or_password(dora, caplog):
    caplog.set_level(logging.WARNING, logger="accounts.services")

    fail("dora", 5, REMOTE_ADDR="203.0.113.7")

    lockouts = [r.getMessage() for r in caplog.records if "login lockout" in r.getMessage()]
    assert len(lockouts) == 1
    assert "203.0.113.7" in lockouts[0]
    assert "dora" not in lockouts[0]
    assert all(WRONG not in r.getMessage() for r in caplog.records)


@pytest.mark.parametrize("login_page", ["/admin/login/", "/api-auth/login/"])
def test_session_logins_share_the_lockout(dora, login_page):
    fail("dora", 3)
    client = Client()

    statuses = [
        client.post(login_page, {"username": "dora", "password": WRONG}).status_code
        for _ in range(3)
    ]

    assert statuses == [HTTPStatus.OK, HTTPStatus.OK, HTTPStatus.TOO_MANY_REQUESTS]
    assert login("dora", PASSWORD).status_code == HTTPStatus.TOO_MANY_REQUESTS


@pytest.mark.parametrize("login_page", ["/admin/login/", "/api-auth/login/"])
def test_a_locked_login_page_says_so_on_its_own_page_with_429(dora, login_page):
    fail("dora", 5)
    client = Client()

    refused = client.post(login_page, {"username": "dora", "password": PASSWORD})

    assert refused.status_code == HTTPStatus.TOO_MANY_REQUESTS
    assert refused["Content-Type"].startswith("text/html")
    assert int(refused["Retry-After"]) > 0
    page = refused.content.decode()
    assert "Too many failed logins from your address" in page
    assert 'name="username"' in page  # the form again, to try later
    assert "_auth_user_id" not in client.session  # the right password was not even tried


@pytest.mark.parametrize("login_page", ["/admin/login/", "/api-auth/login/"])
def test_a_session_login_within_the_limits_logs_in(dora, login_page):
    client = Client()

    response = client.post(login_page, {"username": "dora", "password": PASSWORD})

    assert response.status_code == HTTPStatus.FOUND
    assert client.session["_auth_user_id"] == str(dora.pk)


@pytest.mark.django_db(transaction=True)
def test_thirty_concurrent_wrong_logins_let_at_most_five_through():
    UserFactory(username="dora", password=PASSWORD)
    start = threading.Barrier(30)
    statuses = []

    def attempt():
        try:
            start.wait()
            statuses.append(login("dora", WRONG).status_code)
        finally:
            connection.close()  # each thread's own

    threads = [threading.Thread(target=attempt) for _ in range(30)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert len(statuses) == 30
    assert statuses.count(HTTPStatus.BAD_REQUEST) == 5  # the password was checked 5 times
    assert statuses.count(HTTPStatus.TOO_MANY_REQUESTS) == 25


@pytest.mark.django_db(transaction=True)
def test_logins_get_503_while_the_database_cannot_count_them():
    if connection.vendor != "sqlite":
        pytest.skip("holds SQLite's write lock from another connection")
    UserFactory(username="dora", password=PASSWORD)
    connection.ensure_connection()
    connection.connection.execute("PRAGMA busy_timeout = 200")  # not SQLITE_BUSY_TIMEOUT's 20 s
    other = sqlite3.connect(connection.settings_dict["NAME"], isolation_level=None)
    other.execute("BEGIN IMMEDIATE")  # another writer holds the database
    try:
        refused = login("dora", PASSWORD)
        page = Client().post("/admin/login/", {"username": "dora", "password": PASSWORD})
    finally:
        other.execute("ROLLBACK")
        other.close()
        connection.close()  # the next use reconnects with the usual busy timeout

    assert refused.status_code == HTTPStatus.SERVICE_UNAVAILABLE
    assert refused.json() == {"error": "Logins are unavailable for a moment; try again shortly."}
    assert page.status_code == HTTPStatus.SERVICE_UNAVAILABLE
    assert "Logins are unavailable" in page.content.decode()
    assert login("dora", PASSWORD).status_code == HTTPStatus.OK  # once it answers again
