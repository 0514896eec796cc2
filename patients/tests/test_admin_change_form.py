"""Changing a patient in the admin: by the same service as the API, which writes only what
changed (normalized), queues the details-changed notice and logs who did it. The id and the
timestamps are shown but never taken from the form."""

import logging
from datetime import timedelta
from http import HTTPStatus

import pytest
from django.utils import timezone

from notifications.models import Notification
from patients.models import Patient
from patients.tests.admin_pages import change_url
from patients.tests.factories import PatientFactory

pytestmark = pytest.mark.django_db


def test_id_version_and_timestamps_are_read_only_not_form_fields(superuser_client):
    patient = PatientFactory()

    response = superuser_client.get(change_url(patient))

    assert response.status_code == HTTPStatus.OK
    adminform = response.context["adminform"]
    assert set(adminform.form.fields) == {
        "name",
        "email",
        "phone",
        "preferred_channel",
        "sms_opt_out",
        "email_opt_out",
        "birth_date",
        "seen_version",  # hidden: the version this page showed
    }
    assert adminform.form.fields["seen_version"].widget.is_hidden
    assert set(adminform.readonly_fields) == {
        "id",
        "version",
        "created_at",
        "updated_at",
        "notices",
    }
    assert str(patient.pk) in response.content.decode()


def test_change_form_updates_only_what_changed_through_the_service(
    superuser_client, superuser, caplog
):
    patient = PatientFactory(name="Jane Doe", email="jane@example.com", phone="+15550001111")
    Patient.objects.filter(pk=patient.pk).update(
        created_at=timezone.now() - timedelta(days=30),
        updated_at=timezone.now() - timedelta(days=30),
    )
    before = Patient.objects.get(pk=patient.pk)
    caplog.set_level(logging.INFO, logger="patients.services")

    response = superuser_client.post(
        change_url(patient),
        {
            "name": "Jane Roe",
            "email": "jane@example.com",
            "phone": "+15550001111",
            "preferred_channel": "sms",
        },
    )

    assert response.status_code == HTTPStatus.FOUND
    after = Patient.objects.get(pk=patient.pk)
    assert (after.name, after.email, after.phone) == ("Jane Roe", before.email, before.phone)
    assert after.created_at == before.created_at
    assert after.updated_at > before.updated_at
    # What only the service does: one details-changed notice, to the preferred channel alone
    # (no address changed), and a log line naming the changed field and who changed it.
    notices = Notification.objects.filter(patient=patient)
    assert list(notices.values_list("kind", "channel", "recipient")) == [
        (Notification.Kind.DETAILS_CHANGED, "sms", "+15550001111")
    ]
    assert f"patient {patient.pk} updated (name) by user {superuser.pk}" in caplog.messages


def test_change_form_normalizes_a_new_email_and_phone(superuser_client):
    patient = PatientFactory()

    response = superuser_client.post(
        change_url(patient),
        {
            "name": patient.name,
            "email": "New@Example.COM",
            "phone": "+1 555 222 3333",
            "preferred_channel": "sms",
        },
    )

    assert response.status_code == HTTPStatus.FOUND
    patient.refresh_from_db()
    assert (patient.email, patient.phone) == ("new@example.com", "+15552223333")


def test_change_form_ignores_posted_id_and_timestamps(superuser_client):
    patient = PatientFactory()
    before = Patient.objects.get(pk=patient.pk)

    response = superuser_client.post(
        change_url(patient),
        {
            "name": "Renamed",
            "email": patient.email,
            "phone": patient.phone,
            "preferred_channel": "sms",
            "id": "00000000-0000-0000-0000-000000000000",
            "created_at": "2000-01-01 00:00:00",
            "updated_at": "2000-01-01 00:00:00",
        },
    )

    assert response.status_code == HTTPStatus.FOUND
    after = Patient.objects.get()
    assert after.pk == before.pk
    assert after.name == "Renamed"
    assert after.created_at == before.created_at


def test_change_form_refuses_another_patients_email(superuser_client):
    PatientFactory(email="taken@example.com")
    patient = PatientFactory(email="mine@example.com")

    response = superuser_client.post(
        change_url(patient),
        {
            "name": patient.name,
            "email": "Taken@Example.com",
            "phone": patient.phone,
            "preferred_channel": "sms",
        },
    )

    assert response.status_code == HTTPStatus.OK
    assert response.context["adminform"].form.errors["email"]
    patient.refresh_from_db()
    assert patient.email == "mine@example.com"


def test_change_form_without_changes_writes_nothing(superuser_client):
    patient = PatientFactory(phone="+15550001111")
    before = Patient.objects.get(pk=patient.pk)

    response = superuser_client.post(
        change_url(patient),
        # The same values as typed by a person: a different case and separators.
        {
            "name": patient.name,
            "email": patient.email.upper(),
            "phone": "+1 555 000 1111",
            "preferred_channel": "sms",
        },
    )

    assert response.status_code == HTTPStatus.FOUND
    assert Patient.objects.get(pk=patient.pk).updated_at == before.updated_at
    assert not Notification.objects.exists()
