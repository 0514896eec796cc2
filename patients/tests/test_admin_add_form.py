"""Adding a patient in the admin: by the same service as the API, so the details are stored
normalized, the welcome notice is queued and the service logs who did it; a used or invalid
email or phone is shown as a form error and creates nothing."""

import logging
from http import HTTPStatus

import pytest

from notifications.models import Notification
from patients.models import Patient
from patients.tests.admin_pages import ADD, CHANGELIST, form_data, listed
from patients.tests.factories import PatientFactory

pytestmark = pytest.mark.django_db


def test_add_form_creates_a_patient_through_the_service_in_stored_form(
    superuser_client, superuser, caplog
):
    caplog.set_level(logging.INFO, logger="patients.services")

    response = superuser_client.post(
        ADD,
        form_data(name="  Jane Doe ", email="Jane.Doe@Example.COM", phone="(555) 123-4567"),
    )

    assert response.status_code == HTTPStatus.FOUND
    patient = Patient.objects.get()
    assert (patient.name, patient.email, patient.phone) == (
        "Jane Doe",
        "jane.doe@example.com",
        "5551234567",
    )
    # What only the service does: queue the welcome, and log who created the patient.
    welcome = Notification.objects.get(patient=patient)
    assert (welcome.kind, welcome.channel, welcome.recipient, welcome.status) == (
        Notification.Kind.WELCOME,
        "sms",
        "5551234567",
        Notification.Status.PENDING,
    )
    assert f"patient {patient.pk} created by user {superuser.pk}" in caplog.messages


def test_add_form_redirects_to_the_changelist_with_the_new_patient(superuser_client):
    response = superuser_client.post(ADD, form_data(), follow=True)

    assert response.redirect_chain == [(CHANGELIST, HTTPStatus.FOUND)]
    assert listed(response) == [Patient.objects.get(email="jane@example.com")]


@pytest.mark.parametrize(
    ("field", "duplicate"),
    [("email", "TAKEN@example.COM"), ("phone", "(555) 000-1111"), ("phone", "555.000.1111")],
)
def test_add_form_with_a_used_email_or_phone_shows_an_error_and_creates_nothing(
    superuser_client, caplog, field, duplicate
):
    PatientFactory(email="taken@example.com", phone="5550001111")
    caplog.set_level(logging.INFO, logger="patients.services")

    response = superuser_client.post(ADD, form_data(**{field: duplicate}))

    assert response.status_code == HTTPStatus.OK
    assert "already exists" in str(response.context["adminform"].form.errors[field])
    assert Patient.objects.count() == 1
    # The form stopped it before the service: no welcome queued, no creation logged.
    assert not Notification.objects.exists()
    assert not [message for message in caplog.messages if " created by user " in message]


@pytest.mark.parametrize(
    ("field", "value"),
    [("email", "not-an-email"), ("phone", "12-34"), ("phone", "555123456x"), ("name", "")],
)
def test_add_form_with_invalid_details_shows_an_error_and_creates_nothing(
    superuser_client, field, value
):
    response = superuser_client.post(ADD, form_data(**{field: value}))

    assert response.status_code == HTTPStatus.OK
    assert response.context["adminform"].form.errors[field]
    assert not Patient.objects.exists()
    assert not Notification.objects.exists()


def test_add_form_takes_a_phone_typed_longer_than_its_stored_form(superuser_client):
    response = superuser_client.post(ADD, form_data(phone="+1 (555) 123-4567"))

    assert response.status_code == HTTPStatus.FOUND
    assert Patient.objects.get().phone == "+15551234567"
