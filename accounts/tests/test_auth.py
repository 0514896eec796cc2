"""Who may do what: bearer tokens (login, logout, expiry) and the roles' permissions."""

from datetime import timedelta
from http import HTTPStatus

import pytest
from django.contrib.auth.models import Group, Permission, User
from django.utils import timezone
from knox.crypto import hash_token
from knox.models import AuthToken
from rest_framework.test import APIClient

from patients.models import Patient
from patients.tests.factories import PatientFactory

pytestmark = pytest.mark.django_db

NEW = {"name": "Ann Lee", "email": "ann@example.com", "phone": "5550101234"}


def _assert_unauthorized(response):
    assert response.status_code == HTTPStatus.UNAUTHORIZED
    assert response.json() == {"message": "Unauthorized"}
    assert response["WWW-Authenticate"] == "Bearer"


def _bearer(token: str, scheme: str = "Bearer") -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"{scheme} {token}")
    return client


@pytest.fixture
def dora(db):
    return User.objects.create_user("dora", password="correct horse battery")


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
    response = _bearer(alice.token, scheme).get("/patients")

    assert response.status_code == HTTPStatus.OK


def test_login_gives_a_working_token_with_expiry(dora):
    response = APIClient().post(
        "/auth/login", {"username": "dora", "password": "correct horse battery"}, format="json"
    )

    assert response.status_code == HTTPStatus.OK
    body = response.json()
    assert set(body) == {"token", "expiry"}
    assert body["expiry"]
    # Dora has no role: authenticated, but not allowed to read patients.
    assert _bearer(body["token"]).get("/patients").status_code == HTTPStatus.FORBIDDEN
    assert AuthToken.objects.filter(user=dora).count() == 1


def test_tokens_are_stored_only_as_hashes(alice):
    stored = AuthToken.objects.get(user__username="alice")

    assert stored.digest == hash_token(alice.token)  # SHA-512, not the token
    assert alice.token not in {getattr(stored, f.attname) for f in AuthToken._meta.fields}


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


def test_login_is_throttled(dora, settings):
    client = APIClient()
    statuses = [
        client.post(
            "/auth/login", {"username": "dora", "password": "wrong"}, format="json"
        ).status_code
        for _ in range(11)
    ]

    assert statuses[:10] == [HTTPStatus.BAD_REQUEST] * 10
    assert statuses[10] == HTTPStatus.TOO_MANY_REQUESTS


def test_logout_revokes_only_the_token_used(alice):
    other = _bearer(AuthToken.objects.create(User.objects.get(username="alice"))[1])

    response = alice.post("/auth/logout/")

    assert response.status_code == HTTPStatus.NO_CONTENT
    _assert_unauthorized(alice.get("/patients"))
    assert other.get("/patients").status_code == HTTPStatus.OK


def test_logoutall_revokes_every_token_of_the_user(alice, bob):
    other = _bearer(AuthToken.objects.create(User.objects.get(username="alice"))[1])

    response = alice.post("/auth/logoutall")

    assert response.status_code == HTTPStatus.NO_CONTENT
    _assert_unauthorized(alice.get("/patients"))
    _assert_unauthorized(other.get("/patients"))
    assert bob.get("/patients").status_code == HTTPStatus.OK


def test_expired_token_is_401(alice):
    AuthToken.objects.filter(user__username="alice").update(
        expiry=timezone.now() - timedelta(seconds=1)
    )

    _assert_unauthorized(alice.get("/patients"))


def test_inactive_users_token_is_401(alice):
    User.objects.filter(username="alice").update(is_active=False)

    _assert_unauthorized(alice.get("/patients"))


def test_auditor_reads_but_gets_403_on_every_write(carol):
    patient = PatientFactory()
    detail = f"/patients/{patient.pk}"

    assert carol.get("/patients").status_code == HTTPStatus.OK
    assert carol.get(detail).status_code == HTTPStatus.OK
    for response in (
        carol.post("/patients", NEW, format="json"),
        carol.put(detail, {"name": "X"}, format="json"),
        carol.patch(detail, {"name": "X"}, format="json"),
        carol.delete(detail),
    ):
        assert response.status_code == HTTPStatus.FORBIDDEN
        assert response.json() == {"message": "Forbidden"}
    patient.refresh_from_db()
    assert patient.name != "X"
    assert Patient.objects.count() == 1


def test_front_desk_adds_and_changes_but_may_not_delete(bob):
    created = bob.post("/patients", NEW, format="json")
    detail = f"/patients/{created.json()['patient_id']}"

    assert created.status_code == HTTPStatus.CREATED
    assert bob.put(detail, {"name": "Ann B. Lee"}, format="json").status_code == HTTPStatus.OK
    assert bob.delete(detail).status_code == HTTPStatus.FORBIDDEN
    assert Patient.objects.filter(name="Ann B. Lee").exists()


def test_clinician_may_do_everything(alice):
    created = alice.post("/patients", NEW, format="json")
    detail = f"/patients/{created.json()['patient_id']}"

    assert alice.get(detail).status_code == HTTPStatus.OK
    assert alice.patch(detail, {"name": "Ann B. Lee"}, format="json").status_code == HTTPStatus.OK
    assert alice.delete(detail).status_code == HTTPStatus.OK


def test_user_without_a_role_gets_403_even_for_reading(mallory):
    response = mallory.get("/patients")

    assert response.status_code == HTTPStatus.FORBIDDEN
    assert response.json() == {"message": "Forbidden"}


def test_permissions_changed_in_the_admin_apply_to_the_api_at_once(carol):
    auditors = Group.objects.get(name="auditor")
    auditors.permissions.add(Permission.objects.get(codename="add_patient"))

    response = carol.post("/patients", NEW, format="json")

    assert response.status_code == HTTPStatus.CREATED


def test_browsable_api_works_for_a_staff_user_logged_in_by_session(roles):
    user = User.objects.create_user("sam", password="correct horse battery", is_staff=True)
    user.groups.add(Group.objects.get(name="clinician"))
    PatientFactory(name="Visible Patient")
    client = APIClient()

    login_page = client.get("/api-auth/login/")
    client.post(
        "/api-auth/login/",
        {"username": "sam", "password": "correct horse battery", "next": "/patients"},
    )
    page = client.get("/patients", HTTP_ACCEPT="text/html")

    assert login_page.status_code == HTTPStatus.OK
    assert page.status_code == HTTPStatus.OK
    assert page["Content-Type"].startswith("text/html")
    assert b"Visible Patient" in page.content


def test_login_throttle_ignores_a_forged_x_forwarded_for(dora):
    client = APIClient()
    statuses = [
        client.post(
            "/auth/login",
            {"username": "dora", "password": "wrong"},
            format="json",
            HTTP_X_FORWARDED_FOR=f"203.0.113.{attempt}",
        ).status_code
        for attempt in range(11)
    ]

    assert statuses[10] == HTTPStatus.TOO_MANY_REQUESTS


def test_token_admin_lists_tokens_but_never_issues_them(alice, admin_client):
    listing = admin_client.get("/admin/knox/authtoken/")
    add = admin_client.get("/admin/knox/authtoken/add/")

    assert listing.status_code == HTTPStatus.OK
    assert add.status_code == HTTPStatus.FORBIDDEN


@pytest.mark.parametrize("login_page", ["/admin/login/", "/api-auth/login/"])
def test_session_logins_share_the_login_rate_limit(dora, login_page):
    client = APIClient()
    for _ in range(5):
        client.post("/auth/login", {"username": "dora", "password": "wrong"}, format="json")

    statuses = [
        client.post(login_page, {"username": "dora", "password": "wrong"}).status_code
        for _ in range(6)
    ]

    assert statuses[:5] == [HTTPStatus.OK] * 5  # the form again, with its error
    assert statuses[5] == HTTPStatus.TOO_MANY_REQUESTS
