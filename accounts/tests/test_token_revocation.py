"""A user's tokens are all revoked when their password changes (in code or in the admin), when
they are deactivated, and when they are removed from their last role; other changes, and other
users' tokens, are left alone."""

from http import HTTPStatus

import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group

from accounts.tests.clients import bearer, login

pytestmark = pytest.mark.django_db

User = get_user_model()
PASSWORD = "correct horse battery"
NEW_PASSWORD = "another horse, stapled"


@pytest.fixture
def commit(django_capture_on_commit_callbacks):
    """Run what waits for the transaction's commit (the tests' own is never committed)."""
    return lambda: django_capture_on_commit_callbacks(execute=True)


def alice_user():
    return User.objects.get(username="alice")


def assert_revoked(client):
    assert client.get("/patients").status_code == HTTPStatus.UNAUTHORIZED


def assert_working(client):
    assert client.get("/patients").status_code == HTTPStatus.OK


def test_set_password_and_save_revokes_the_users_tokens(alice, bob):
    user = alice_user()

    user.set_password(NEW_PASSWORD)
    user.save()

    assert_revoked(alice)
    assert_working(bob)


def test_a_password_changed_in_the_admin_revokes_the_users_tokens(alice, admin_client):
    user = alice_user()

    response = admin_client.post(
        f"/admin/auth/user/{user.pk}/password/",
        {"password1": NEW_PASSWORD, "password2": NEW_PASSWORD, "usable_password": "true"},
    )

    assert response.status_code == HTTPStatus.FOUND
    user.refresh_from_db()
    assert user.check_password(NEW_PASSWORD)
    assert_revoked(alice)


def test_a_new_login_after_the_password_change_works(alice):
    user = alice_user()
    user.set_password(NEW_PASSWORD)
    user.save()

    response = login("alice", NEW_PASSWORD)

    assert_working(bearer(response.json()["token"]))


def test_deactivating_a_user_revokes_their_tokens_for_good(alice):
    user = alice_user()

    user.is_active = False
    user.save(update_fields=["is_active"])
    user.is_active = True
    user.save()

    assert_revoked(alice)


def test_removing_a_user_from_every_role_revokes_their_tokens(alice, bob, commit):
    with commit():
        alice_user().groups.clear()

    assert_revoked(alice)
    assert_working(bob)


def test_emptying_the_role_from_the_groups_side_revokes_its_members_tokens(alice, bob, commit):
    with commit():
        Group.objects.get(name="clinician").user_set.remove(alice_user())

    assert_revoked(alice)
    assert_working(bob)


def test_deleting_a_users_only_role_revokes_their_tokens(alice, bob, commit):
    with commit():
        Group.objects.get(name="clinician").delete()

    assert_revoked(alice)
    assert_working(bob)


def test_changing_a_users_role_in_the_admin_keeps_their_tokens(alice, admin_client, commit):
    user = alice_user()
    auditor = Group.objects.get(name="auditor")

    with commit():
        response = admin_client.post(
            f"/admin/auth/user/{user.pk}/change/",
            {
                "username": "alice",
                "is_active": "on",
                "groups": [auditor.pk],
                "date_joined_0": "2026-01-01",
                "date_joined_1": "09:00:00",
                "initial-date_joined_0": "2026-01-01",
                "initial-date_joined_1": "09:00:00",
            },
        )

    assert response.status_code == HTTPStatus.FOUND, response.content[:2000]
    assert list(user.groups.values_list("name", flat=True)) == ["auditor"]
    assert_working(alice)


def test_a_superuser_without_roles_keeps_their_tokens(alice, commit):
    User.objects.filter(username="alice").update(is_superuser=True)

    with commit():
        alice_user().groups.clear()

    assert_working(alice)


def test_logging_in_again_keeps_the_users_other_tokens(alice):
    user = alice_user()
    user.set_password(PASSWORD)
    user.save()  # revokes the fixture's token: start from a fresh login
    first = bearer(login("alice", PASSWORD).json()["token"])

    second = login("alice", PASSWORD)

    assert second.status_code == HTTPStatus.OK
    assert_working(first)
