"""GET /fhir/Patient/<id>/_history and /_history/<version> (vread), from the versions."""

import uuid
from datetime import timedelta
from urllib.parse import urlsplit

import pytest

from audit.models import AccessRecord
from fhir_r4.tests.checks import outcome, r4
from patients.services import (
    patient_create,
    patient_delete,
    patient_purge,
    patient_restore,
    patient_update,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def ann():
    patient = patient_create(name="Ann Marlowe", email="ann@example.com", phone="+15550101234")
    patient = patient_update(patient=patient, data={"name": "Ann Bright"})
    return patient_update(patient=patient, data={"preferred_channel": "email"})


def _history(client, path: str) -> dict:
    response = client.get(path)
    assert response.status_code == 200, response.content
    return r4(response, "Bundle")


def test_history_is_an_r4_history_bundle_newest_first(carol, ann):
    bundle = _history(carol, f"/fhir/Patient/{ann.pk}/_history")

    assert bundle["type"] == "history"
    entries = bundle["entry"]
    assert [e["resource"]["meta"]["versionId"] for e in entries] == ["3", "2", "1"]
    assert [e["resource"]["name"][0]["text"] for e in entries] == [
        "Ann Bright",
        "Ann Bright",
        "Ann Marlowe",
    ]
    assert [(e["request"]["method"], e["response"]["status"]) for e in entries] == [
        ("PUT", "200 OK"),
        ("PUT", "200 OK"),
        ("POST", "201 Created"),
    ]
    assert entries[0]["request"]["url"] == f"Patient/{ann.pk}"
    assert entries[2]["request"]["url"] == "Patient"
    assert entries[0]["response"]["etag"] == 'W/"3"'
    assert {e["fullUrl"] for e in entries} == {f"http://testserver/fhir/Patient/{ann.pk}"}


def test_a_deleted_patients_history_ends_in_a_delete_without_a_resource(carol, ann):
    patient_delete(patient=ann)

    entries = _history(carol, f"/fhir/Patient/{ann.pk}/_history")["entry"]

    assert entries[0]["request"]["method"] == "DELETE"
    assert "resource" not in entries[0]
    assert entries[1]["resource"]["meta"]["versionId"] == "3"


def test_a_restored_patient_shows_a_put_that_created_it_again(carol, ann):
    patient_delete(patient=ann)
    patient_restore(patient_id=ann.pk)

    newest = _history(carol, f"/fhir/Patient/{ann.pk}/_history")["entry"][0]

    assert (newest["request"]["method"], newest["response"]["status"]) == ("PUT", "201 Created")
    assert newest["resource"]["meta"]["versionId"] == "5"


def test_history_pages_by_cursor_with_count(carol, ann):
    first = _history(carol, f"/fhir/Patient/{ann.pk}/_history?_count=2")
    next_url = next(link["url"] for link in first["link"] if link["relation"] == "next")
    parts = urlsplit(next_url)
    second = _history(carol, f"{parts.path}?{parts.query}")

    versions = [e["response"]["etag"] for e in first["entry"] + second["entry"]]
    assert versions == ['W/"3"', 'W/"2"', 'W/"1"']
    assert not any(link["relation"] == "next" for link in second["link"])


def test_history_of_an_unknown_id_is_404(carol):
    outcome(carol.get(f"/fhir/Patient/{uuid.uuid4()}/_history"), 404, "not-found")
    outcome(carol.get("/fhir/Patient/nope/_history"), 404, "not-found")


def test_vread_gives_that_version_with_its_etag(carol, ann):
    response = carol.get(f"/fhir/Patient/{ann.pk}/_history/1")

    assert response.status_code == 200
    body = r4(response, "Patient")
    assert body["name"] == [{"text": "Ann Marlowe"}]
    assert body["meta"]["versionId"] == "1"
    assert response["ETag"] == 'W/"1"'


def test_vread_of_an_older_version_works_after_a_delete_but_the_delete_is_410(carol, ann):
    patient_delete(patient=ann)

    assert carol.get(f"/fhir/Patient/{ann.pk}/_history/2").status_code == 200
    outcome(carol.get(f"/fhir/Patient/{ann.pk}/_history/4"), 410, "deleted")


def test_vread_of_a_purged_version_is_410(carol, ann):
    patient_delete(patient=ann)
    patient_purge(patient_id=ann.pk)

    response = carol.get(f"/fhir/Patient/{ann.pk}/_history/1")

    outcome(response, 410, "deleted")
    assert "Ann" not in response.content.decode()
    entries = _history(carol, f"/fhir/Patient/{ann.pk}/_history")["entry"]
    assert not any("resource" in entry for entry in entries)


@pytest.mark.parametrize("vid", ["9", "0", "x", "99999999999999999999", "-1"])
def test_vread_of_an_unknown_version_is_404(carol, ann, vid):
    outcome(carol.get(f"/fhir/Patient/{ann.pk}/_history/{vid}"), 404, "not-found")


def test_history_and_vread_are_in_the_access_audit(carol, ann):
    carol.get(f"/fhir/Patient/{ann.pk}/_history")
    carol.get(f"/fhir/Patient/{ann.pk}/_history/1")

    records = [
        (r.action, r.status, [p.patient_id for p in r.patients.all()])
        for r in AccessRecord.objects.order_by("id")
    ]
    assert records == [("patient.history", 200, [ann.pk])] * 2


def test_last_updated_of_a_version_is_when_it_was_made(carol, ann):
    body = carol.get(f"/fhir/Patient/{ann.pk}/_history/1").json()
    first = ann.history.order_by("history_date").first()

    assert body["meta"]["lastUpdated"].endswith("Z")
    assert abs(first.history_date - first.updated_at) < timedelta(seconds=1)
