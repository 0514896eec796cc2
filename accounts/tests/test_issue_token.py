"""`manage.py issue_token`: a new token for a user (optionally created, and put in a role),
printed once as the last line, with the login's lifetime or the one asked for."""

from datetime import timedelta
from http import HTTPStatus

import pytest
from django.contrib.auth import get_user_model
from django.core.management import CommandError
from django.utils import timezone
from knox.models import AuthToken

from accounts.tests.clients import bearer
from accounts.tests.commands import last_line, run
from accounts.tests.factories import UserFactory

pytestmark = pytest.mark.django_db

User = get_user_model()


def test_issue_token_prints_a_token_that_authenticates_as_the_last_line(roles):
    output = run("issue_token", "svc", "--create", "--role", "auditor")

    response = bearer(last_line(output)).get("/patients")

    assert response.status_code == HTTPStatus.OK


def test_issued_token_belongs_to_the_user():
    user = UserFactory(username="nurse", password="a-long-passphrase")

    token = last_line(run("issue_token", "nurse"))

    response = bearer(token).get("/patients")
    # Authenticated (not 401) but without a role: the token is the nurse's, not anyone's.
    assert response.status_code == HTTPStatus.FORBIDDEN
    assert AuthToken.objects.get().user == user
    user.refresh_from_db()
    assert user.check_password("a-long-passphrase")


def test_each_issue_token_gives_a_new_token():
    UserFactory(username="nurse")

    first = last_line(run("issue_token", "nurse"))
    second = last_line(run("issue_token", "nurse"))

    assert first != second
    assert AuthToken.objects.count() == 2


def test_issue_token_create_makes_a_user_without_a_usable_password():
    run("issue_token", "svc", "--create")

    user = User.objects.get(username="svc")
    assert not user.has_usable_password()
    assert not user.is_staff
    assert not user.is_superuser


def test_issue_token_create_keeps_an_existing_users_password():
    UserFactory(username="nurse", password="a-long-passphrase")

    run("issue_token", "nurse", "--create")

    assert User.objects.get(username="nurse").check_password("a-long-passphrase")


def test_issue_token_for_an_unknown_user_without_create_is_an_error():
    with pytest.raises(CommandError, match="ghost"):
        run("issue_token", "ghost")

    assert not User.objects.filter(username="ghost").exists()
    assert not AuthToken.objects.exists()


def test_issue_token_role_puts_the_user_in_the_group(roles):
    run("issue_token", "svc", "--create", "--role", "auditor")

    user = User.objects.get(username="svc")
    assert list(user.groups.values_list("name", flat=True)) == ["auditor"]
    assert user.has_perm("patients.view_patient")
    assert not user.has_perm("patients.add_patient")


@pytest.mark.parametrize("role", ["nurse", "admin", "Clinician"])
def test_issue_token_with_an_unknown_role_is_an_error_and_creates_nothing(roles, role):
    with pytest.raises(CommandError):
        run("issue_token", "svc", "--create", "--role", role)

    assert not User.objects.filter(username="svc").exists()
    assert not AuthToken.objects.exists()


def test_issue_token_with_a_role_before_setup_roles_is_an_error_and_creates_nothing():
    with pytest.raises(CommandError, match="setup_roles"):
        run("issue_token", "svc", "--create", "--role", "auditor")

    assert not User.objects.filter(username="svc").exists()
    assert not AuthToken.objects.exists()


@pytest.mark.parametrize(
    ("ttl", "lifetime"),
    [("90d", timedelta(days=90)), ("12h", timedelta(hours=12)), ("2w", timedelta(weeks=2))],
)
def test_issue_token_ttl_sets_the_expiry(ttl, lifetime):
    run("issue_token", "svc", "--create", "--ttl", ttl)

    expected = timezone.now() + lifetime
    expiry = AuthToken.objects.get(user__username="svc").expiry
    assert abs(expiry - expected) < timedelta(minutes=1)


def test_issue_token_without_ttl_expires_after_token_max_age(settings):
    run("issue_token", "svc", "--create")

    expected = timezone.now() + settings.TOKEN_MAX_AGE
    expiry = AuthToken.objects.get(user__username="svc").expiry
    assert abs(expiry - expected) < timedelta(minutes=1)


@pytest.mark.parametrize(
    "ttl", ["soon", "0d", "90x", "d90", "-5d", "", "999999999d", "99999999999999999999d", "P1e9D"]
)
def test_issue_token_with_a_bad_ttl_is_an_error_and_creates_nothing(ttl):
    with pytest.raises(CommandError):
        run("issue_token", "svc", "--create", f"--ttl={ttl}")

    assert not User.objects.filter(username="svc").exists()
    assert not AuthToken.objects.exists()
