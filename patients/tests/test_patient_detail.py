"""GET and DELETE /patients/<id>, and the 404 every method gets for an unknown or malformed
id."""

from http import HTTPStatus

import pytest

from patients.models import Patient
from patients.tests.factories import PatientFactory

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("suffix", ["", "/"])
def test_get_returns_the_patient(carol, suffix):
    patient = PatientFactory()

    response = carol.get(f"/patients/{patient.pk}{suffix}")

    assert response.status_code == HTTPStatus.OK
    body = response.json()
    assert body["id"] == str(patient.pk)
    assert (body["name"], body["email"], body["phone"]) == (
        patient.name,
        patient.email,
        patient.phone,
    )


@pytest.mark.parametrize(
    "patient_id",
    ["00000000-0000-0000-0000-000000000000", "not-a-uuid", "123", "3ce2dd50-7764-42bf"],
)
@pytest.mark.parametrize("method", ["get", "put", "patch", "delete"])
def test_unknown_or_malformed_id_is_404(alice, method, patient_id):
    response = getattr(alice, method)(f"/patients/{patient_id}", {"name": "X"}, format="json")

    assert response.status_code == HTTPStatus.NOT_FOUND
    assert response.json() == {"message": "Patient not found"}


def test_delete_removes_the_patient(alice):
    patient = PatientFactory()

    response = alice.delete(f"/patients/{patient.pk}/")

    assert response.status_code == HTTPStatus.OK
    assert response.json() == {"message": "Patient deleted successfully"}
    assert not Patient.objects.filter(pk=patient.pk).exists()
    assert alice.get(f"/patients/{patient.pk}").status_code == HTTPStatus.NOT_FOUND
