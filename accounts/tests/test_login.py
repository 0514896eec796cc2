"""Logging in: POST /auth/login trades a username and password for a token, and staff log in
to the browsable API by session (the lockout both share is in test_login_lockout.py)."""

from http import HTTPStatus

import pytest
from knox.models import AuthToken
from rest_framework.test import APIClient

from accounts.tests.clients import bearer, login
from accounts.tests.factories import UserFactory
from patients.tests.factories import PatientFactory

pytestmark = pytest.mark.django_db

PASSWORD = "correct horse battery"


@pytest.fixture
def dora():
    """A user with a password and no role."""
    return UserFactory(username="dora", password=PASSWORD)


def test_login_gives_a_working_token_with_expiry(dora):
    response = login("dora", PASSWORD)

    assert response.status_code == HTTPStatus.OK
    body = response.json()
    assert set(body) == {"token", "expiry"}
    assert body["expiry"]
    # Dora has no role: authenticated, but not allowed to read patients.
    assert bearer(body["token"]).get("/patients").status_code == HTTPStatus.FORBIDDEN
    assert AuthToken.objects.filter(user=dora).count() == 1


@pytest.mark.parametrize(
    ("body", "error"),
    [
        ({"username": "dora", "password": "wrong"}, "Invalid username or password"),
        ({"username": "nobody", "password": "x"}, "Invalid username or password"),
        ({"password": "x"}, "Missing required field: username"),
        ({"username": "dora"}, "Missing required field: password"),
    ],
)
def test_login_with_bad_credentials_is_400_and_issues_nothing(dora, body, error):
    response = APIClient().post("/auth/login", body, format="json")

    assert response.status_code == HTTPStatus.BAD_REQUEST
    assert response.json()["error"] == error
    assert not AuthToken.objects.exists()


def test_browsable_api_works_for_a_staff_user_logged_in_by_session():
    UserFactory(username="sam", password=PASSWORD, staff=True, role="clinician")
    PatientFactory(name="Visible Patient")
    client = APIClient()

    login_page = client.get("/api-auth/login/")
    client.post(
        "/api-auth/login/",
        {"username": "sam", "password": PASSWORD, "next": "/patients"},
    )
    page = client.get("/patients", HTTP_ACCEPT="text/html")

    assert login_page.status_code == HTTPStatus.OK
    assert page.status_code == HTTPStatus.OK
    assert page["Content-Type"].startswith("text/html")
    assert b"Visible Patient" in page.content
