"""Bearer tokens: every patient and auth endpoint needs one, a bad, expired or revoked one
is a JSON 401, tokens are stored only as hashes, and the admin lists them but never issues
them."""

from datetime import timedelta
from http import HTTPStatus

import pytest
from django.contrib.auth.models import User
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from knox.crypto import hash_token
from knox.models import AuthToken
from rest_framework.test import APIClient

from accounts.tasks import tokens_expired_delete_task
from accounts.tests.clients import bearer

pytestmark = pytest.mark.django_db


def _assert_unauthorized(response):
    assert response.status_code == HTTPStatus.UNAUTHORIZED
    assert response.json() == {"message": "Unauthorized"}
    assert response["WWW-Authenticate"] == "Bearer"


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("get", "/patients"),
        ("post", "/patients"),
        ("get", "/patients/00000000-0000-0000-0000-000000000000"),
        ("put", "/patients/00000000-0000-0000-0000-000000000000"),
        ("patch", "/patients/00000000-0000-0000-0000-000000000000"),
        ("delete", "/patients/00000000-0000-0000-0000-000000000000"),
        ("post", "/auth/logout"),
        ("post", "/auth/logoutall"),
    ],
)
def test_every_patient_and_auth_endpoint_needs_a_token(anonymous, method, path):
    _assert_unauthorized(getattr(anonymous, method)(path, {}, format="json"))


@pytest.mark.parametrize(
    "header",
    [
        "Bearer 0123456789abcdef",
        "Bearer",
        "Bearer two words",
        "Token abc",
        "Basic YWxpY2U6cGFzcw==",
        "secret-token-123",
    ],
)
def test_unknown_or_malformed_token_is_401(db, header):
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=header)

    _assert_unauthorized(client.get("/patients"))


@pytest.mark.parametrize("scheme", ["Bearer", "bearer", "BEARER"])
def test_bearer_scheme_word_is_case_insensitive(alice, scheme):
    response = bearer(alice.token, scheme).get("/patients")

    assert response.status_code == HTTPStatus.OK


def test_tokens_are_stored_only_as_hashes(alice):
    stored = AuthToken.objects.get(user__username="alice")

    assert stored.digest == hash_token(alice.token)  # SHA-512, not the token
    assert alice.token not in {getattr(stored, f.attname) for f in AuthToken._meta.fields}


def test_expired_token_is_401(alice):
    AuthToken.objects.filter(user__username="alice").update(
        expiry=timezone.now() - timedelta(seconds=1)
    )

    _assert_unauthorized(alice.get("/patients"))


def test_an_expired_token_is_deleted_when_used(alice):
    AuthToken.objects.filter(user__username="alice").update(
        expiry=timezone.now() - timedelta(seconds=1)
    )

    alice.get("/patients")

    assert not AuthToken.objects.filter(user__username="alice").exists()


def test_the_hourly_task_deletes_every_expired_token_and_keeps_the_others(alice, bob):
    AuthToken.objects.filter(user__username="alice").update(
        expiry=timezone.now() - timedelta(seconds=1)
    )
    AuthToken.objects.create(User.objects.get(username="bob"), expiry=None)

    assert tokens_expired_delete_task() == 1

    assert not AuthToken.objects.filter(user__username="alice").exists()
    assert AuthToken.objects.filter(user__username="bob").count() == 2
    assert bob.get("/patients").status_code == HTTPStatus.OK


def test_a_request_authenticates_and_checks_its_permission_in_two_queries(alice):
    with CaptureQueriesContext(connection) as queries:
        response = alice.get("/patients/00000000-0000-0000-0000-000000000000")
    assert response.status_code == HTTPStatus.NOT_FOUND
    reads = [q["sql"] for q in queries.captured_queries if q["sql"].startswith("SELECT")]
    token_reads = [sql for sql in reads if "knox_authtoken" in sql]
    permission_reads = [sql for sql in reads if "auth_permission" in sql]
    assert len(token_reads) == 1
    assert len(permission_reads) == 1


def test_inactive_users_token_is_401(alice):
    User.objects.filter(username="alice").update(is_active=False)

    _assert_unauthorized(alice.get("/patients"))


def test_logout_revokes_only_the_token_used(alice):
    other = bearer(AuthToken.objects.create(User.objects.get(username="alice"))[1])

    response = alice.post("/auth/logout/")

    assert response.status_code == HTTPStatus.NO_CONTENT
    _assert_unauthorized(alice.get("/patients"))
    assert other.get("/patients").status_code == HTTPStatus.OK


def test_logoutall_revokes_every_token_of_the_user(alice, bob):
    other = bearer(AuthToken.objects.create(User.objects.get(username="alice"))[1])

    response = alice.post("/auth/logoutall")

    assert response.status_code == HTTPStatus.NO_CONTENT
    _assert_unauthorized(alice.get("/patients"))
    _assert_unauthorized(other.get("/patients"))
    assert bob.get("/patients").status_code == HTTPStatus.OK


def test_token_admin_lists_tokens_but_never_issues_them(alice, admin_client):
    listing = admin_client.get("/admin/knox/authtoken/")
    add = admin_client.get("/admin/knox/authtoken/add/")

    assert listing.status_code == HTTPStatus.OK
    assert add.status_code == HTTPStatus.FORBIDDEN
