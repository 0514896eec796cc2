"""The management commands staff run: setup_roles, issue_token and demo_user."""

from datetime import timedelta
from http import HTTPStatus
from io import StringIO

import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group, Permission
from django.core.management import CommandError, call_command
from django.utils import timezone
from knox.models import AuthToken
from knox.settings import knox_settings
from rest_framework.test import APIClient

from accounts.services import ROLES

pytestmark = pytest.mark.django_db

User = get_user_model()


def run(*args) -> str:
    """Run a command as from the command line; its standard output."""
    out = StringIO()
    call_command(*args, stdout=out, stderr=StringIO())
    return out.getvalue()


def last_line(output: str) -> str:
    return output.strip().splitlines()[-1]


def bearer(token: str) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {token}")
    return client


def group_codenames(name: str) -> set[str]:
    return set(Group.objects.get(name=name).permissions.values_list("codename", flat=True))


def expected_codenames(role: str) -> set[str]:
    return {
        f"{action}_{model.split('.')[1]}"
        for model, actions in ROLES[role].items()
        for action in actions
    }


# setup_roles


def test_setup_roles_creates_each_role_with_exactly_its_permissions():
    run("setup_roles")

    assert set(Group.objects.values_list("name", flat=True)) == set(ROLES)
    for role in ROLES:
        assert group_codenames(role) == expected_codenames(role), role


def test_setup_roles_grants_the_documented_permissions():
    run("setup_roles")

    assert group_codenames("clinician") == {
        "view_patient",
        "add_patient",
        "change_patient",
        "delete_patient",
        "view_notification",
        "add_notification",
    }
    assert group_codenames("front_desk") == {
        "view_patient",
        "add_patient",
        "change_patient",
        "view_notification",
        "add_notification",
    }
    assert group_codenames("auditor") == {"view_patient", "view_notification"}


def test_setup_roles_twice_changes_nothing():
    run("setup_roles")
    first = {role: group_codenames(role) for role in ROLES}

    run("setup_roles")

    assert Group.objects.count() == len(ROLES)
    assert {role: group_codenames(role) for role in ROLES} == first


def test_setup_roles_keeps_a_permission_staff_added_to_a_group():
    run("setup_roles")
    front_desk = Group.objects.get(name="front_desk")
    front_desk.permissions.add(Permission.objects.get(codename="delete_patient"))

    run("setup_roles")

    assert "delete_patient" in group_codenames("front_desk")


def test_setup_roles_restores_a_permission_removed_from_a_group():
    run("setup_roles")
    Group.objects.get(name="auditor").permissions.clear()

    run("setup_roles")

    assert group_codenames("auditor") == expected_codenames("auditor")


def test_setup_roles_prints_each_role():
    output = run("setup_roles")

    assert [line.split(":")[0] for line in output.splitlines()] == list(ROLES)


# issue_token


def test_issue_token_prints_a_token_that_authenticates_as_the_last_line(roles):
    output = run("issue_token", "svc", "--create", "--role", "auditor")

    response = bearer(last_line(output)).get("/patients")

    assert response.status_code == HTTPStatus.OK


def test_issued_token_belongs_to_the_user():
    user = User.objects.create_user("nurse", password="a-long-passphrase")

    token = last_line(run("issue_token", "nurse"))

    response = bearer(token).get("/patients")
    # Authenticated (not 401) but without a role: the token is the nurse's, not anyone's.
    assert response.status_code == HTTPStatus.FORBIDDEN
    assert AuthToken.objects.get().user == user
    user.refresh_from_db()
    assert user.check_password("a-long-passphrase")


def test_each_issue_token_gives_a_new_token():
    User.objects.create_user("nurse")

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
    User.objects.create_user("nurse", password="a-long-passphrase")

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


def test_issue_token_without_ttl_expires_after_the_login_ttl():
    run("issue_token", "svc", "--create")

    expected = timezone.now() + knox_settings.TOKEN_TTL
    expiry = AuthToken.objects.get(user__username="svc").expiry
    assert abs(expiry - expected) < timedelta(minutes=1)


@pytest.mark.parametrize("ttl", ["soon", "0d", "90x", "d90", "-5d", ""])
def test_issue_token_with_a_bad_ttl_is_an_error_and_creates_nothing(ttl):
    with pytest.raises(CommandError):
        run("issue_token", "svc", "--create", f"--ttl={ttl}")

    assert not User.objects.filter(username="svc").exists()
    assert not AuthToken.objects.exists()


# demo_user


def demo_credentials(output: str) -> tuple[str, str]:
    """The password and token that demo_user printed."""
    lines = dict(line.split(":", 1) for line in output.splitlines())
    return lines["Password"].strip(), lines["API token"].strip()


def login(username: str, password: str):
    return APIClient().post(
        "/auth/login", {"username": username, "password": password}, format="json"
    )


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
