"""GET /patients/<id>/notifications: a patient's notices, newest first, paged by cursor, for
every role that reads patients."""

import uuid
from datetime import timedelta
from http import HTTPStatus

import pytest
from django.utils import timezone

from notifications.models import Notification
from notifications.tests.factories import NotificationFactory
from patients.models import Patient
from patients.tests.factories import ANN, PatientFactory
from patients.tests.pages import walk_pages

pytestmark = pytest.mark.django_db

Kind = Notification.Kind

FIELDS = {
    "id",
    "channel",
    "kind",
    "recipient",
    "status",
    "attempts",
    "last_error",
    "created_at",
    "updated_at",
    "sent_at",
}


def _url(patient, suffix: str = "") -> str:
    return f"/patients/{patient.pk}/notifications{suffix}"


def _hour_apart(patient: Patient, count: int) -> list[Notification]:
    """`count` of the patient's notices an hour apart, oldest first."""
    start = timezone.now() - timedelta(hours=count)
    return [
        NotificationFactory(
            patient=patient, kind=Kind.DETAILS_CHANGED, created_at=start + timedelta(hours=n)
        )
        for n in range(count)
    ]


@pytest.mark.parametrize("suffix", ["", "/"])
def test_notifications_are_listed_newest_first(carol, suffix):
    patient = PatientFactory()
    notifications = _hour_apart(patient, 3)

    response = carol.get(_url(patient, suffix))

    assert response.status_code == HTTPStatus.OK
    assert [item["id"] for item in response.json()] == [str(n.pk) for n in notifications[::-1]]


def test_a_notification_shows_its_delivery_fields(carol):
    notification = NotificationFactory(sent=True, attempts=2)
    patient = notification.patient

    item = carol.get(_url(patient)).json()[0]

    assert set(item) == FIELDS
    assert item["id"] == str(notification.pk)
    assert (item["channel"], item["kind"], item["recipient"]) == ("sms", "welcome", patient.phone)
    assert (item["status"], item["attempts"], item["last_error"]) == ("sent", 2, "")
    assert item["sent_at"] is not None
    assert item["created_at"] is not None
    assert item["updated_at"] is not None


def test_only_that_patients_notifications_are_listed(carol):
    mine = NotificationFactory()
    NotificationFactory.create_batch(2, patient=PatientFactory())

    response = carol.get(_url(mine.patient))

    assert [item["id"] for item in response.json()] == [str(mine.pk)]


def test_a_patient_created_through_the_api_lists_its_pending_welcome(alice):
    patient_id = alice.post("/patients", ANN, format="json").json()["patient_id"]

    response = alice.get(f"/patients/{patient_id}/notifications")

    assert response.status_code == HTTPStatus.OK
    [item] = response.json()
    assert (item["kind"], item["channel"], item["recipient"]) == ("welcome", "sms", ANN["phone"])
    assert (item["status"], item["attempts"], item["sent_at"]) == ("pending", 0, None)


@pytest.mark.parametrize("client", ["alice", "bob", "carol"])
def test_every_role_that_reads_patients_reads_their_notifications(request, client):
    notification = NotificationFactory()

    response = request.getfixturevalue(client).get(_url(notification.patient))

    assert response.status_code == HTTPStatus.OK
    assert len(response.json()) == 1


def test_a_staff_user_without_a_role_is_403(mallory):
    notification = NotificationFactory()

    response = mallory.get(_url(notification.patient))

    assert response.status_code == HTTPStatus.FORBIDDEN
    assert response.json() == {"message": "Forbidden"}


def test_an_anonymous_request_is_401(anonymous):
    patient = PatientFactory()

    response = anonymous.get(_url(patient))

    assert response.status_code == HTTPStatus.UNAUTHORIZED
    assert response.json() == {"message": "Unauthorized"}


@pytest.mark.parametrize("patient_id", [uuid.uuid4(), "not-a-uuid"])
def test_an_unknown_patient_is_404(carol, patient_id):
    response = carol.get(f"/patients/{patient_id}/notifications")

    assert response.status_code == HTTPStatus.NOT_FOUND
    assert response.json() == {"message": "Patient not found"}


def test_a_patient_with_no_notifications_has_an_empty_list(carol):
    response = carol.get(_url(PatientFactory()))

    assert response.status_code == HTTPStatus.OK
    assert response.json() == []
    assert "Link" not in response


def test_notifications_page_by_limit_and_the_link_header(carol):
    patient = PatientFactory()
    notifications = _hour_apart(patient, 5)

    first = carol.get(_url(patient) + "?limit=2")
    pages = walk_pages(carol, _url(patient) + "?limit=2")

    assert 'rel="next"' in first["Link"]
    assert [len(page) for page in pages] == [2, 2, 1]
    assert [item["id"] for page in pages for item in page] == [
        str(n.pk) for n in notifications[::-1]
    ]
