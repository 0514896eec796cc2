"""When the login rate limit refuses, the admin's and the browsable API's login pages say so
on their own page (not raw JSON), with a 429, and without trying the password."""

from http import HTTPStatus

import pytest
from django.contrib.auth import get_user_model
from django.test import Client

pytestmark = pytest.mark.django_db


LIMIT = 10  # LOGIN_THROTTLE_RATE's default, 10 a minute


@pytest.fixture
def staff_user():
    return get_user_model().objects.create_user(
        "dora", password="correct horse battery", is_staff=True
    )


@pytest.mark.parametrize("login_page", ["/admin/login/", "/api-auth/login/"])
def test_a_throttled_login_page_says_so_in_its_own_page(staff_user, login_page):
    client = Client()
    for _ in range(LIMIT):
        client.post(login_page, {"username": "dora", "password": "wrong"})

    refused = client.post(login_page, {"username": "dora", "password": "correct horse battery"})

    assert refused.status_code == HTTPStatus.TOO_MANY_REQUESTS
    assert refused["Content-Type"].startswith("text/html")
    assert int(refused["Retry-After"]) > 0
    page = refused.content.decode()
    assert "Too many login attempts" in page
    assert 'name="username"' in page  # the form again, to try later
    assert "_auth_user_id" not in client.session  # the right password was not even tried


@pytest.mark.parametrize("login_page", ["/admin/login/", "/api-auth/login/"])
def test_a_login_within_the_limit_logs_in(staff_user, login_page):
    client = Client()

    response = client.post(login_page, {"username": "dora", "password": "correct horse battery"})

    assert response.status_code == HTTPStatus.FOUND
    assert client.session["_auth_user_id"] == str(staff_user.pk)
