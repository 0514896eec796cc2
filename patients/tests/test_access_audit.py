"""Who looked at what: every request to a patient route, allowed or refused, writes one access
record naming the patients it returned or touched, in the same request."""

import pytest

from audit.models import AccessRecord
from patients.models import Patient
from patients.tests.admin_pages import CHANGELIST, change_url
from patients.tests.factories import ANN, PatientFactory

pytestmark = pytest.mark.django_db


def _records() -> list[tuple]:
    return [
        (r.action, r.username, r.status, sorted(str(p.patient_id) for p in r.patients.all()))
        for r in AccessRecord.objects.order_by("id")
    ]


def test_each_api_request_writes_one_record_with_the_patients_it_touched(alice):
    a, b = PatientFactory(), PatientFactory()
    created = alice.post("/patients", ANN, format="json").json()["patient_id"]

    alice.get("/patients")
    alice.get(f"/patients/{a.pk}")
    alice.patch(f"/patients/{a.pk}", {"name": "New Name"}, format="json")
    alice.get(f"/patients/{a.pk}/history")
    alice.get(f"/patients/{a.pk}/notifications")
    alice.delete(f"/patients/{b.pk}")

    assert _records() == [
        ("patient.create", "alice", 201, [created]),
        ("patient.list", "alice", 200, sorted([str(a.pk), str(b.pk), created])),
        ("patient.read", "alice", 200, [str(a.pk)]),
        ("patient.update", "alice", 200, [str(a.pk)]),
        ("patient.history", "alice", 200, [str(a.pk)]),
        ("patient.notifications", "alice", 200, [str(a.pk)]),
        ("patient.delete", "alice", 200, [str(b.pk)]),
    ]


def test_refused_requests_are_recorded_too(anonymous, mallory, bob):
    patient = PatientFactory()

    anonymous.get(f"/patients/{patient.pk}")
    mallory.get(f"/patients/{patient.pk}")
    bob.delete(f"/patients/{patient.pk}")  # the front desk may not delete
    bob.put(f"/patients/{patient.pk}", {"name": "X Y"}, format="json", HTTP_IF_MATCH='"9"')

    assert _records() == [
        ("patient.read", "", 401, [str(patient.pk)]),
        ("patient.read", "mallory", 403, [str(patient.pk)]),
        ("patient.delete", "bob", 403, [str(patient.pk)]),
        ("patient.update", "bob", 412, [str(patient.pk)]),
    ]


def test_a_record_carries_the_tokens_digest_prefix_the_client_ip_and_no_query(alice):
    from knox.models import AuthToken

    alice.get("/patients?search=Marlowe", REMOTE_ADDR="203.0.113.9")

    record = AccessRecord.objects.get()
    digest = AuthToken.objects.get(user__username="alice").digest
    assert record.token == digest[:12]
    assert alice.token[:8] not in record.token
    assert record.client_ip == "203.0.113.9"
    assert record.path == "/patients"


def test_a_replayed_create_names_the_patient_it_returns(alice):
    for _ in range(2):
        alice.post("/patients", ANN, format="json", HTTP_IDEMPOTENCY_KEY="k")

    patient_id = str(Patient.objects.get().pk)
    assert [r[3] for r in _records()] == [[patient_id], [patient_id]]


def test_admin_patient_pages_are_recorded(superuser_client):
    patient = PatientFactory()

    superuser_client.get(CHANGELIST)
    superuser_client.get(change_url(patient))

    assert _records() == [
        ("admin.patient.changelist_view", "root", 200, [str(patient.pk)]),
        ("admin.patient.change_view", "root", 200, [str(patient.pk)]),
    ]
