"""GET and DELETE /patients/<id>, and the 404 every method gets for an unknown or malformed
id."""

import json
from datetime import date
from http import HTTPStatus

import pytest
from rest_framework import serializers

from patients.models import Patient
from patients.serializers import PatientSerializer
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


class _DRFPatientSerializer(PatientSerializer):
    """PatientSerializer with DRF's own field-by-field output, to compare against."""

    to_representation = serializers.ModelSerializer.to_representation


@pytest.mark.parametrize("zone", ["UTC", "America/New_York", "Asia/Kolkata"])
@pytest.mark.parametrize("birth_date", [None, date(1984, 3, 2)])
def test_a_patient_is_shown_exactly_as_drf_fields_would_show_them(zone, birth_date, settings):
    settings.TIME_ZONE = zone
    patient = PatientFactory(birth_date=birth_date, sms_opt_out=True, preferred_channel="email")
    # An instant with no fraction of a second is shown without one: by DRF, and by ours.
    patient.created_at = patient.created_at.replace(microsecond=0)

    for shown in (patient, Patient.objects.get(pk=patient.pk)):
        ours = json.dumps(PatientSerializer(shown).data)
        assert ours == json.dumps(_DRFPatientSerializer(shown).data)
        assert json.dumps(PatientSerializer([shown], many=True).data) == f"[{ours}]"
