"""How long tokens live: a login's token expires after 30 minutes without use
(TOKEN_IDLE_TIMEOUT), each use moving that on, and 12 hours after the login whatever happens
(TOKEN_MAX_AGE); a token from issue_token lives exactly as long as it was issued for."""

from datetime import datetime, timedelta
from http import HTTPStatus

import pytest
from knox.models import AuthToken

from accounts.tests.clients import bearer, login
from accounts.tests.commands import last_line, run
from accounts.tests.factories import UserFactory

pytestmark = pytest.mark.django_db

PASSWORD = "correct horse battery"
LOGIN_TIME = datetime.fromisoformat("2026-03-02T08:00:00+00:00")


@pytest.fixture
def nurse():
    return UserFactory(username="nurse", password=PASSWORD, role="clinician")


@pytest.fixture
def at_login(time_machine):
    time_machine.move_to(LOGIN_TIME, tick=False)
    return time_machine


def logged_in_token() -> str:
    response = login("nurse", PASSWORD)
    assert response.status_code == HTTPStatus.OK
    return response.json()["token"]


def test_a_login_token_unused_for_31_minutes_is_401(nurse, at_login):
    token = logged_in_token()

    at_login.shift(timedelta(minutes=31))

    assert bearer(token).get("/patients").status_code == HTTPStatus.UNAUTHORIZED


def test_a_login_token_used_within_30_minutes_works(nurse, at_login):
    token = logged_in_token()

    at_login.shift(timedelta(minutes=29))

    assert bearer(token).get("/patients").status_code == HTTPStatus.OK


def test_the_login_response_gives_the_idle_expiry(nurse, at_login):
    response = login("nurse", PASSWORD)

    assert response.json()["expiry"] == "2026-03-02T08:30:00Z"


def test_a_login_token_used_every_20_minutes_lives_until_12_hours_after_the_login(nurse, at_login):
    client = bearer(logged_in_token())
    statuses = []

    for _ in range(35):  # 11 h 40 min
        at_login.shift(timedelta(minutes=20))
        statuses.append(client.get("/patients").status_code)
    at_login.shift(timedelta(minutes=19, seconds=59))  # 11:59:59 after the login
    last_good = client.get("/patients").status_code
    at_login.shift(timedelta(seconds=2))  # 12:00:01

    assert statuses == [HTTPStatus.OK] * 35
    assert last_good == HTTPStatus.OK
    assert client.get("/patients").status_code == HTTPStatus.UNAUTHORIZED


def test_a_service_token_with_a_30_day_ttl_works_after_13_hours_idle(at_login, roles):
    token = last_line(run("issue_token", "svc", "--create", "--role", "auditor", "--ttl", "30d"))

    at_login.shift(timedelta(hours=13))

    assert bearer(token).get("/patients").status_code == HTTPStatus.OK


def test_using_a_service_token_does_not_move_its_expiry(at_login, roles):
    token = last_line(run("issue_token", "svc", "--create", "--role", "auditor", "--ttl", "2h"))
    expiry = AuthToken.objects.get().expiry

    at_login.shift(timedelta(hours=1))
    bearer(token).get("/patients")
    at_login.shift(timedelta(hours=1, seconds=1))

    assert AuthToken.objects.get().expiry == expiry
    assert bearer(token).get("/patients").status_code == HTTPStatus.UNAUTHORIZED
