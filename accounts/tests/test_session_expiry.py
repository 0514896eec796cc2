"""Session logins (the admin's, the browsable API's) end as login tokens do: after 30 minutes
without a request, and 12 hours after the login however much they are used."""

from datetime import timedelta
from http import HTTPStatus

import pytest
import time_machine
from django.test import Client
from django.utils import timezone

from accounts.tests.factories import UserFactory

pytestmark = pytest.mark.django_db

ADMIN = "/admin/"


@pytest.fixture
def staff_session() -> Client:
    client = Client()
    client.force_login(UserFactory(staff=True, superuser=True))
    return client


def test_a_session_unused_for_31_minutes_must_log_in_again(staff_session):
    start = timezone.now()
    with time_machine.travel(start, tick=False):
        assert staff_session.get(ADMIN).status_code == HTTPStatus.OK

    with time_machine.travel(start + timedelta(minutes=31), tick=False):
        response = staff_session.get(ADMIN)

    assert response.status_code == HTTPStatus.FOUND
    assert response["Location"].startswith("/admin/login/")


def test_a_session_used_every_20_minutes_lives_until_12_hours_after_the_login(staff_session):
    start = timezone.now()
    answers = []
    for minutes in range(20, 12 * 60 + 40, 20):  # to 12 h 20 min
        with time_machine.travel(start + timedelta(minutes=minutes), tick=False):
            answers.append((minutes, staff_session.get(ADMIN).status_code))

    assert all(status == HTTPStatus.OK for minutes, status in answers if minutes < 12 * 60)
    assert answers[-1] == (12 * 60 + 20, HTTPStatus.FOUND)


def test_a_session_cookie_ends_with_the_browser(staff_session):
    response = staff_session.get(ADMIN)

    cookie = response.cookies["sessionid"]
    assert cookie["expires"] == ""
    assert cookie["max-age"] == ""
