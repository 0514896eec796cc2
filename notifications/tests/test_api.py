"""GET /patients/<id>/notifications, and the patient's notification preferences in the API."""

import uuid
from datetime import timedelta
from http import HTTPStatus

import pytest
from django.utils import timezone

from notifications.models import Notification
from patients.models import Patient
from patients.tests.factories import PatientFactory
from patients.tests.pages import walk_pages

pytestmark = pytest.mark.django_db

Status = Notification.Status
Kind = Notification.Kind

ANN = {"name": "Ann Marlowe", "email": "ann@example.com", "phone": "+15550101234"}
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


def _notifications(patient: Patient, count: int) -> list[Notification]:
    """`count` notices an hour apart, oldest first."""
    start = timezone.now() - timedelta(hours=count)
    return [
        Notification.objects.create(
            patient=patient,
            channel="sms",
            kind=Kind.DETAILS_CHANGED,
            recipient=patient.phone,
            created_at=start + timedelta(hours=n),
        )
        for n in range(count)
    ]


@pytest.mark.parametrize("suffix", ["", "/"])
def test_notifications_are_listed_newest_first(carol, suffix):
    patient = PatientFactory()
    notifications = _notifications(patient, 3)

    response = carol.get(_url(patient, suffix))

    assert response.status_code == HTTPStatus.OK
    assert [item["id"] for item in response.json()] == [str(n.pk) for n in notifications[::-1]]


def test_a_notification_shows_its_delivery_fields(carol):
    patient = PatientFactory()
    sent_at = timezone.now()
    notification = Notification.objects.create(
        patient=patient,
        channel="sms",
        kind=Kind.WELCOME,
        recipient=patient.phone,
        status=Status.SENT,
        attempts=2,
        sent_at=sent_at,
    )

    item = carol.get(_url(patient)).json()[0]

    assert set(item) == FIELDS
    assert item["id"] == str(notification.pk)
    assert (item["channel"], item["kind"], item["recipient"]) == ("sms", "welcome", patient.phone)
    assert (item["status"], item["attempts"], item["last_error"]) == ("sent", 2, "")
    assert item["sent_at"] is not None
    assert item["created_at"] is not None
    assert item["updated_at"] is not None


def test_only_that_patients_notifications_are_listed(carol):
    patient, other = PatientFactory(), PatientFactory()
    mine = _notifications(patient, 1)
    _notifications(other, 2)

    response = carol.get(_url(patient))

    assert [item["id"] for item in response.json()] == [str(mine[0].pk)]


def test_a_patient_created_through_the_api_lists_its_pending_welcome(alice):
    patient_id = alice.post("/patients", ANN, format="json").json()["patient_id"]

    response = alice.get(f"/patients/{patient_id}/notifications")

    assert response.status_code == HTTPStatus.OK
    [item] = response.json()
    assert (item["kind"], item["channel"], item["recipient"]) == ("welcome", "sms", ANN["phone"])
    assert (item["status"], item["attempts"], item["sent_at"]) == ("pending", 0, None)


@pytest.mark.parametrize("client", ["alice", "bob", "carol"])
def test_every_role_that_reads_patients_reads_their_notifications(request, client):
    patient = PatientFactory()
    _notifications(patient, 1)

    response = request.getfixturevalue(client).get(_url(patient))

    assert response.status_code == HTTPStatus.OK
    assert len(response.json()) == 1


def test_a_staff_user_without_a_role_is_403(mallory):
    patient = PatientFactory()
    _notifications(patient, 1)

    response = mallory.get(_url(patient))

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
    notifications = _notifications(patient, 5)

    first = carol.get(_url(patient) + "?limit=2")
    pages = walk_pages(carol, _url(patient) + "?limit=2")

    assert 'rel="next"' in first["Link"]
    assert [len(page) for page in pages] == [2, 2, 1]
    assert [item["id"] for page in pages for item in page] == [
        str(n.pk) for n in notifications[::-1]
    ]


# The patient's preferences in the patient API


def test_a_new_patient_defaults_to_sms_with_no_opt_outs(alice):
    response = alice.post("/patients", ANN, format="json")

    assert response.status_code == HTTPStatus.CREATED
    patient = response.json()["patient"]
    assert (patient["preferred_channel"], patient["sms_opt_out"], patient["email_opt_out"]) == (
        "sms",
        False,
        False,
    )


def test_preferences_are_set_on_create_and_shown_on_read(alice, carol):
    body = {**ANN, "preferred_channel": "email", "sms_opt_out": True, "email_opt_out": False}

    created = alice.post("/patients", body, format="json")
    patient_id = created.json()["patient_id"]
    shown = carol.get(f"/patients/{patient_id}").json()

    assert created.status_code == HTTPStatus.CREATED
    assert (shown["preferred_channel"], shown["sms_opt_out"], shown["email_opt_out"]) == (
        "email",
        True,
        False,
    )
    notification = Notification.objects.get(patient_id=patient_id)
    assert (notification.channel, notification.recipient) == ("email", ANN["email"])


@pytest.mark.parametrize("method", ["put", "patch"])
def test_preferences_are_changed_by_update(alice, method):
    patient = PatientFactory()

    response = getattr(alice, method)(
        f"/patients/{patient.pk}",
        {"preferred_channel": "email", "email_opt_out": True},
        format="json",
    )

    assert response.status_code == HTTPStatus.OK
    shown = response.json()["patient"]
    assert (shown["preferred_channel"], shown["sms_opt_out"], shown["email_opt_out"]) == (
        "email",
        False,
        True,
    )
    patient.refresh_from_db()
    assert (patient.preferred_channel, patient.email_opt_out) == ("email", True)


@pytest.mark.parametrize("method", ["post", "put"])
def test_an_unknown_preferred_channel_is_400(alice, method):
    patient = PatientFactory(name="Pat Before")
    path = "/patients" if method == "post" else f"/patients/{patient.pk}"

    response = getattr(alice, method)(
        path, {**ANN, "name": "Pat After", "preferred_channel": "fax"}, format="json"
    )

    assert response.status_code == HTTPStatus.BAD_REQUEST
    assert response.json()["error"]
    assert "preferred_channel" in response.json()["errors"]
    assert Patient.objects.get().name == "Pat Before"
    assert not Notification.objects.exists()


def test_a_non_boolean_opt_out_is_400(alice):
    response = alice.post("/patients", {**ANN, "sms_opt_out": "sometimes"}, format="json")

    assert response.status_code == HTTPStatus.BAD_REQUEST
    assert "sms_opt_out" in response.json()["errors"]
    assert not Patient.objects.exists()
