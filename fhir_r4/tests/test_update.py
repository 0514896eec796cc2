"""PUT /fhir/Patient/<id>: FHIR's update replaces the resource, through patient_update,
with If-Match; it never creates."""

import uuid
from datetime import date

import pytest

from audit.models import AccessRecord
from fhir_r4.tests.checks import outcome, patient_body, r4, send
from notifications.models import Notification
from patients.models import Patient
from patients.services import patient_create, patient_delete
from patients.tests.factories import ANN, PatientFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def ann():
    return PatientFactory(
        **ANN, birth_date=date(1980, 4, 2), preferred_channel="email", sms_opt_out=True
    )


def _put(client, patient, **overrides):
    headers = {key: overrides.pop(key) for key in list(overrides) if key.startswith("HTTP_")}
    body = patient_body(id=str(patient.pk), **overrides)
    return send(client, "put", f"/fhir/Patient/{patient.pk}", body, **headers)


def test_update_answers_the_new_version_with_its_weak_etag(bob, ann):
    response = _put(bob, ann, name=[{"text": "Ann Bright"}])

    assert response.status_code == 200
    body = r4(response, "Patient")
    assert body["name"] == [{"text": "Ann Bright"}]
    assert body["meta"]["versionId"] == "2"
    assert response["ETag"] == 'W/"2"'
    assert Patient.objects.get().name == "Ann Bright"


def test_an_element_left_out_is_cleared_and_the_opt_outs_are_kept(bob, ann):
    telecom = [
        {"system": "phone", "value": "+15550101234"},
        {"system": "email", "value": "ann@example.com"},
    ]

    _put(bob, ann, birthDate=None, telecom=telecom)

    ann.refresh_from_db()
    assert ann.birth_date is None  # birthDate left out: cleared
    assert ann.preferred_channel == "sms"  # no ranks: the default, not the old email
    assert ann.sms_opt_out is True  # no FHIR element: kept


def test_a_required_element_left_out_is_422_not_kept(bob, ann):
    response = _put(bob, ann, name=None)

    outcome(response, 422, "required")
    assert Patient.objects.get().name == "Ann Marlowe"


def test_update_queues_the_details_changed_notice(bob, ann):
    _put(bob, ann, telecom=[
        {"system": "phone", "value": "+15550101234", "rank": 2},
        {"system": "email", "value": "ann.new@example.com", "rank": 1},
    ])  # fmt: skip

    kinds = set(Notification.objects.values_list("kind", flat=True))
    assert kinds == {Notification.Kind.DETAILS_CHANGED}
    recipients = set(Notification.objects.values_list("recipient", flat=True))
    assert {"ann@example.com", "ann.new@example.com"} <= recipients


@pytest.mark.parametrize("if_match", ['W/"1"', '"1"', "*"])
def test_if_match_on_the_current_version_updates(bob, ann, if_match):
    response = _put(bob, ann, name=[{"text": "Ann Bright"}], HTTP_IF_MATCH=if_match)

    assert response.status_code == 200


def test_a_stale_if_match_is_412_with_the_current_etag(bob, ann):
    _put(bob, ann, name=[{"text": "Ann Bright"}])

    response = _put(bob, ann, name=[{"text": "Ann Other"}], HTTP_IF_MATCH='W/"1"')

    outcome(response, 412, "conflict")
    assert response["ETag"] == 'W/"2"'
    assert Patient.objects.get().name == "Ann Bright"


def test_an_unknown_id_is_405_and_creates_nothing(bob):
    patient_id = uuid.uuid4()
    body = patient_body(id=str(patient_id))

    response = send(bob, "put", f"/fhir/Patient/{patient_id}", body)

    outcome(response, 405, "not-supported")
    assert not Patient.objects.exists()


def test_a_deleted_patient_is_410_and_not_brought_back(bob, ann):
    patient_delete(patient=ann)

    outcome(_put(bob, ann), 410, "deleted")
    assert not Patient.objects.exists()


@pytest.mark.parametrize("body_id", [None, str(uuid.uuid4())])
def test_a_body_id_missing_or_not_the_urls_is_400(bob, ann, body_id):
    body = patient_body(id=body_id)

    response = send(bob, "put", f"/fhir/Patient/{ann.pk}", body)

    outcome(response, 400, "invalid")


def test_a_body_that_is_not_a_patient_is_400(bob, ann):
    response = send(bob, "put", f"/fhir/Patient/{ann.pk}", {"resourceType": "Basic"})

    outcome(response, 400)


def test_taking_another_patients_phone_is_422_duplicate(bob, ann):
    other = patient_create(name="Bo Ray", email="bo@example.com", phone="+15550109999")
    body = patient_body(id=str(other.pk))  # Ann's phone and email

    outcome(send(bob, "put", f"/fhir/Patient/{other.pk}", body), 422, "duplicate")


def test_a_user_without_the_change_permission_is_403(carol, ann):
    outcome(_put(carol, ann), 403, "forbidden")


def test_delete_is_not_offered(alice, ann):
    response = alice.delete(f"/fhir/Patient/{ann.pk}")

    outcome(response, 405, "not-supported")
    assert Patient.objects.exists()


def test_updates_are_in_the_access_audit(bob, ann):
    _put(bob, ann, name=[{"text": "Ann Bright"}])
    _put(bob, ann, HTTP_IF_MATCH='W/"1"')

    records = [
        (r.action, r.status, [p.patient_id for p in r.patients.all()])
        for r in AccessRecord.objects.order_by("id")
    ]
    assert records == [("patient.update", 200, [ann.pk]), ("patient.update", 412, [ann.pk])]
