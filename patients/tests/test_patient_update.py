"""PUT and PATCH /patients/<id>: both change the given fields and keep the others (the
original's PUT), normalized like a create; bad input is 400 and a used address 409, and
neither changes anything."""

from http import HTTPStatus

import pytest

from patients.models import Patient
from patients.tests.factories import PatientFactory

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("method", ["put", "patch"])
def test_update_changes_the_given_fields_and_keeps_the_others(alice, method):
    patient = PatientFactory(name="John Doe", email="john@example.com", phone="1234567890")

    response = getattr(alice, method)(
        f"/patients/{patient.pk}", {"name": "Jane Doe"}, format="json"
    )

    assert response.status_code == HTTPStatus.OK
    assert response.json()["message"] == "Patient updated successfully"
    patient.refresh_from_db()
    assert (patient.name, patient.email, patient.phone) == (
        "Jane Doe",
        "john@example.com",
        "1234567890",
    )
    assert response.json()["patient"]["name"] == "Jane Doe"


def test_update_normalizes_like_create(alice):
    patient = PatientFactory()

    response = alice.put(
        f"/patients/{patient.pk}/",
        {"email": "NEW@Example.com", "phone": "(098) 765-4321"},
        format="json",
    )

    assert response.status_code == HTTPStatus.OK
    patient.refresh_from_db()
    assert (patient.email, patient.phone) == ("new@example.com", "0987654321")


@pytest.mark.parametrize(
    ("body", "error"),
    [
        ({"name": ""}, "Missing required field: name"),
        ({"phone": "  "}, "Missing required field: phone"),
        ({"email": None}, "Missing required field: email"),
        ({"email": "nope"}, "Invalid email format"),
        ({"phone": "12"}, "Invalid phone number format"),
    ],
)
def test_update_with_bad_input_is_400_and_changes_nothing(alice, body, error):
    patient = PatientFactory()
    before = Patient.objects.values().get(pk=patient.pk)

    response = alice.put(f"/patients/{patient.pk}", body, format="json")

    assert response.status_code == HTTPStatus.BAD_REQUEST
    assert response.json()["error"] == error
    assert Patient.objects.values().get(pk=patient.pk) == before


def test_update_to_another_patients_email_is_409_and_changes_nothing(alice):
    taken = PatientFactory()
    patient = PatientFactory()

    response = alice.put(f"/patients/{patient.pk}", {"email": taken.email.upper()}, format="json")

    assert response.status_code == HTTPStatus.CONFLICT
    assert response.json() == {"error": "Patient with this phone or email already exists"}
    patient_email = Patient.objects.get(pk=patient.pk).email
    assert patient_email != taken.email


def test_update_with_own_current_values_is_fine(alice):
    patient = PatientFactory()

    response = alice.put(
        f"/patients/{patient.pk}", {"email": patient.email, "phone": patient.phone}, format="json"
    )

    assert response.status_code == HTTPStatus.OK
