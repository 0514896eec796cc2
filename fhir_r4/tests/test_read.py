"""GET /fhir/Patient/<id>: a patient as an R4 Patient, with FHIR's weak ETag."""

import uuid
from datetime import date

import pytest
from django.utils.http import parse_http_date

from audit.models import AccessRecord
from fhir_r4.tests.checks import FHIR_JSON, outcome, r4
from patients.services import patient_delete
from patients.tests.factories import ANN, PatientFactory

pytestmark = pytest.mark.django_db


def test_a_patient_reads_as_an_r4_patient_with_every_mapped_element(carol):
    patient = PatientFactory(**ANN, birth_date=date(1980, 4, 2), preferred_channel="email")

    response = carol.get(f"/fhir/Patient/{patient.pk}")

    assert response.status_code == 200
    body = r4(response, "Patient")
    assert body["id"] == str(patient.pk)
    assert body["identifier"] == [
        {"system": "urn:ietf:rfc:3986", "value": f"urn:uuid:{patient.pk}"}
    ]
    assert body["name"] == [{"text": "Ann Marlowe"}]
    assert body["telecom"] == [
        {"system": "phone", "value": "+15550101234", "rank": 2},
        {"system": "email", "value": "ann@example.com", "rank": 1},
    ]
    assert body["birthDate"] == "1980-04-02"
    assert body["meta"]["versionId"] == "1"
    assert body["meta"]["lastUpdated"].endswith("Z")


def test_the_etag_is_the_weak_version_and_last_modified_the_last_change(carol):
    patient = PatientFactory(version=3)

    response = carol.get(f"/fhir/Patient/{patient.pk}")

    assert response["ETag"] == 'W/"3"'
    assert parse_http_date(response["Last-Modified"]) == int(patient.updated_at.timestamp())


def test_an_unknown_birth_date_is_left_out(carol):
    patient = PatientFactory()

    body = r4(carol.get(f"/fhir/Patient/{patient.pk}"), "Patient")

    assert "birthDate" not in body
    assert body["telecom"][0] == {"system": "phone", "value": patient.phone, "rank": 1}


@pytest.mark.parametrize("patient_id", [str(uuid.uuid4()), "not-a-uuid", "1.2"])
def test_an_unknown_or_malformed_id_is_404_not_found(carol, patient_id):
    outcome(carol.get(f"/fhir/Patient/{patient_id}"), 404, "not-found")


def test_a_deleted_patient_is_410_deleted(carol):
    patient = PatientFactory()
    patient_delete(patient=patient)

    outcome(carol.get(f"/fhir/Patient/{patient.pk}"), 410, "deleted")


def test_without_a_token_it_is_401_login_with_a_bearer_challenge(anonymous):
    patient = PatientFactory()

    response = anonymous.get(f"/fhir/Patient/{patient.pk}")

    outcome(response, 401, "login")
    assert response["WWW-Authenticate"].startswith("Bearer")


def test_a_wrong_token_is_401(anonymous):
    anonymous.credentials(HTTP_AUTHORIZATION="Bearer not-a-token")

    outcome(anonymous.get(f"/fhir/Patient/{uuid.uuid4()}"), 401, "login")


def test_a_user_without_the_view_permission_is_403_forbidden(mallory):
    patient = PatientFactory()

    outcome(mallory.get(f"/fhir/Patient/{patient.pk}"), 403, "forbidden")


def test_reads_and_refusals_are_in_the_access_audit(carol, mallory):
    patient = PatientFactory()

    carol.get(f"/fhir/Patient/{patient.pk}")
    mallory.get(f"/fhir/Patient/{patient.pk}")

    records = [
        (r.action, r.username, r.status, [p.patient_id for p in r.patients.all()], r.path)
        for r in AccessRecord.objects.order_by("id")
    ]
    path = f"/fhir/Patient/{patient.pk}"
    assert records == [
        ("patient.read", "carol", 200, [patient.pk], path),
        ("patient.read", "mallory", 403, [patient.pk], path),
    ]


@pytest.mark.parametrize(
    "accept", ["application/json", FHIR_JSON, "application/fhir+json; fhirVersion=4.0", "*/*"]
)
def test_json_accept_headers_get_fhir_json(carol, accept):
    patient = PatientFactory()

    response = carol.get(f"/fhir/Patient/{patient.pk}", HTTP_ACCEPT=accept)

    assert response.status_code == 200
    assert response["Content-Type"] == FHIR_JSON


def test_format_json_is_fhir_json_and_another_format_is_406(carol):
    patient = PatientFactory()

    assert carol.get(f"/fhir/Patient/{patient.pk}?_format=json").status_code == 200
    outcome(carol.get(f"/fhir/Patient/{patient.pk}?_format=xml"), 406, "not-supported")


def test_an_accept_of_html_only_is_406_as_an_operation_outcome(carol):
    patient = PatientFactory()

    response = carol.get(f"/fhir/Patient/{patient.pk}", HTTP_ACCEPT="text/html")

    outcome(response, 406, "not-supported")
