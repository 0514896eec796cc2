"""`manage.py demo_user`: the demo superuser `make run` prints, with a fresh password and
token on every run, the previous ones revoked."""

from http import HTTPStatus

import pytest
from django.contrib.auth import get_user_model

from accounts.tests.clients import bearer, login
from accounts.tests.commands import run

pytestmark = pytest.mark.django_db

User = get_user_model()


def demo_credentials(output: str) -> tuple[str, str]:
    """The password and token that demo_user printed."""
    lines = dict(line.split(":", 1) for line in output.splitlines())
    return lines["Password"].strip(), lines["API token"].strip()


def test_demo_user_creates_a_superuser():
    run("demo_user")

    user = User.objects.get(username="demo")
    assert user.is_superuser
    assert user.is_staff
    assert user.is_active


def test_demo_user_password_logs_in():
    password, _ = demo_credentials(run("demo_user"))

    response = login("demo", password)

    assert response.status_code == HTTPStatus.OK
    assert bearer(response.json()["token"]).get("/patients").status_code == HTTPStatus.OK


def test_demo_user_token_works():
    _, token = demo_credentials(run("demo_user"))

    response = bearer(token).get("/patients")

    assert response.status_code == HTTPStatus.OK


def test_demo_user_twice_resets_the_password():
    old_password, _ = demo_credentials(run("demo_user"))
    new_password, _ = demo_credentials(run("demo_user"))

    assert new_password != old_password
    assert login("demo", old_password).status_code == HTTPStatus.BAD_REQUEST
    assert login("demo", new_password).status_code == HTTPStatus.OK
    assert User.objects.filter(username="demo").count() == 1


def test_demo_user_twice_revokes_the_previous_token():
    _, old_token = demo_credentials(run("demo_user"))
    _, new_token = demo_credentials(run("demo_user"))

    assert bearer(old_token).get("/patients").status_code == HTTPStatus.UNAUTHORIZED
    assert bearer(new_token).get("/patients").status_code == HTTPStatus.OK


def test_demo_user_restores_superuser_rights_taken_away():
    run("demo_user")
    User.objects.filter(username="demo").update(is_superuser=False, is_staff=False)

    run("demo_user")

    user = User.objects.get(username="demo")
    assert user.is_superuser
    assert user.is_staff


def test_demo_user_takes_a_username():
    password, _ = demo_credentials(run("demo_user", "--username", "showcase"))

    assert login("showcase", password).status_code == HTTPStatus.OK
