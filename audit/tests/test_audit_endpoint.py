"""GET /audit: auditors (and superusers) read who looked at what, newest first, by patient,
user and time; nobody changes it through the API."""

import uuid
from datetime import timedelta
from http import HTTPStatus

import pytest
from django.utils import timezone
from rest_framework.test import APIClient

from accounts.services import token_issue
from accounts.tests.factories import UserFactory
from audit.models import AccessRecord
from audit.tests.factories import AccessRecordFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def superuser() -> APIClient:
    user = UserFactory(superuser=True)
    _, token = token_issue(username=user.username)
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {token}")
    return client


def _ids(response) -> list[int]:
    assert response.status_code == HTTPStatus.OK, response.content
    return [record["id"] for record in response.json()]


def test_an_auditor_reads_the_records_newest_first(carol):
    older = AccessRecordFactory(at=timezone.now() - timedelta(hours=1))
    newer = AccessRecordFactory()

    response = carol.get("/audit")

    assert _ids(response) == [newer.pk, older.pk]


def test_a_record_shows_who_what_when_and_how(carol):
    user = UserFactory(username="dana")
    patients = [uuid.uuid4(), uuid.uuid4()]
    record = AccessRecordFactory(
        user=user,
        token="0123456789ab",
        action="patient.list",
        status=200,
        client_ip="198.51.100.4",
        path="/patients",
        patient_ids=patients,
    )

    (shown,) = carol.get("/audit").json()

    assert shown == {
        "id": record.pk,
        "at": shown["at"],
        "user": "dana",
        "token": "0123456789ab",
        "via": "api",
        "action": "patient.list",
        "patient_ids": [str(patient) for patient in patients],
        "status": 200,
        "client_ip": "198.51.100.4",
        "path": "/patients",
    }
    assert shown["at"].endswith("Z")


def test_an_anonymous_request_shows_no_user_and_no_token(carol):
    AccessRecordFactory(status=401)

    (shown,) = carol.get("/audit").json()

    assert (shown["user"], shown["token"], shown["status"]) == (None, None, 401)


def test_a_superuser_reads_the_records(superuser):
    record = AccessRecordFactory()

    assert _ids(superuser.get("/audit/")) == [record.pk]


@pytest.mark.parametrize("who", ["alice", "bob", "mallory"])
def test_staff_without_the_auditor_role_are_refused(request, who):
    AccessRecordFactory()

    response = request.getfixturevalue(who).get("/audit")

    assert response.status_code == HTTPStatus.FORBIDDEN
    assert response.json() == {"message": "Forbidden"}


def test_without_a_token_it_is_401(anonymous):
    response = anonymous.get("/audit")

    assert response.status_code == HTTPStatus.UNAUTHORIZED
    assert response.json() == {"message": "Unauthorized"}


def test_the_patient_filter_returns_only_the_records_naming_that_patient(carol):
    patient = uuid.uuid4()
    naming = [AccessRecordFactory(patient_ids=[uuid.uuid4(), patient]) for _ in range(2)]
    AccessRecordFactory()

    assert set(_ids(carol.get("/audit", {"patient": str(patient)}))) == {r.pk for r in naming}


def test_the_user_filter_takes_a_username_or_a_user_id(carol):
    dana = UserFactory(username="dana")
    theirs = AccessRecordFactory(user=dana)
    AccessRecordFactory(user=UserFactory(username="eve"))

    assert _ids(carol.get("/audit", {"user": "dana"})) == [theirs.pk]
    assert _ids(carol.get("/audit", {"user": str(dana.pk)})) == [theirs.pk]


def test_a_deleted_users_records_are_found_by_their_username(carol):
    dana = UserFactory(username="dana")
    record = AccessRecordFactory(user=dana)

    dana.delete()

    assert _ids(carol.get("/audit", {"user": "dana"})) == [record.pk]
    assert AccessRecord.objects.get(pk=record.pk).user is None


def test_the_since_filter_leaves_out_older_records(carol):
    now = timezone.now()
    AccessRecordFactory(at=now - timedelta(days=2))
    recent = AccessRecordFactory(at=now - timedelta(hours=1))

    since = (now - timedelta(days=1)).isoformat()

    assert _ids(carol.get("/audit", {"since": since})) == [recent.pk]


def test_since_with_an_offset_whose_plus_was_not_encoded(carol):
    now = timezone.now()
    AccessRecordFactory(at=now - timedelta(days=2))
    recent = AccessRecordFactory(at=now - timedelta(hours=1))
    since = (now - timedelta(days=1)).strftime("%Y-%m-%dT%H:%M:%S+00:00")

    response = carol.get(f"/audit?since={since}")  # `+` decodes to a space

    assert _ids(response) == [recent.pk]


def test_the_filters_combine_to_records_matching_all_of_them(carol):
    now = timezone.now()
    patient = uuid.uuid4()
    dana = UserFactory(username="dana")
    match = AccessRecordFactory(user=dana, patient_ids=[patient], at=now)
    AccessRecordFactory(user=dana, patient_ids=[patient], at=now - timedelta(days=3))
    AccessRecordFactory(user=dana, at=now)
    AccessRecordFactory(patient_ids=[patient], at=now)

    response = carol.get(
        "/audit",
        {"patient": str(patient), "user": "dana", "since": (now - timedelta(days=1)).isoformat()},
    )

    assert _ids(response) == [match.pk]


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ({"patient": "not-a-uuid"}, "patient"),
        ({"since": "yesterday"}, "since"),
        ({"since": "9999-12-31T23:59:59-14:00"}, "since"),
        ({"user": "x" * 151}, "user"),
    ],
)
def test_bad_parameters_are_400(carol, query, field):
    response = carol.get("/audit", query)

    assert response.status_code == HTTPStatus.BAD_REQUEST
    assert field in response.json()["errors"]


def test_a_nul_in_a_parameter_is_400(carol):
    assert carol.get("/audit", {"user": "a\x00b"}).status_code == HTTPStatus.BAD_REQUEST


def test_a_huge_user_id_finds_nothing_rather_than_failing(carol):
    AccessRecordFactory()

    assert _ids(carol.get("/audit", {"user": "9" * 40})) == []


def test_pages_follow_the_link_header_newest_first(carol):
    now = timezone.now()
    records = [AccessRecordFactory(at=now - timedelta(minutes=i)) for i in range(5)]

    first = carol.get("/audit", {"limit": 2})
    second = carol.get(first["Link"].split(";")[0].strip("<>"))

    assert _ids(first) + _ids(second) == [r.pk for r in records[:4]]
    assert 'rel="next"' in first["Link"]


def test_a_bad_cursor_is_400(carol):
    response = carol.get("/audit", {"cursor": "garbage"})

    assert response.status_code == HTTPStatus.BAD_REQUEST


@pytest.mark.parametrize("method", ["post", "put", "patch", "delete"])
def test_no_method_changes_the_audit(carol, superuser, method):
    record = AccessRecordFactory()

    for client in (carol, superuser):
        response = getattr(client, method)("/audit", {"status": 200}, format="json")
        assert response.status_code == HTTPStatus.METHOD_NOT_ALLOWED

    assert AccessRecord.objects.get().status == record.status


def test_reading_the_audit_is_not_recorded(carol):
    AccessRecordFactory()

    carol.get("/audit")

    assert AccessRecord.objects.count() == 1


def test_the_schema_documents_the_audit(anonymous):
    response = anonymous.get("/api/schema/", HTTP_ACCEPT="application/vnd.oai.openapi+json")

    operation = response.json()["paths"]["/audit"]["get"]
    assert {p["name"] for p in operation["parameters"]} >= {"patient", "user", "since", "cursor"}
    assert {"200", "400", "401", "403"} <= set(operation["responses"])
