"""No lost updates: each patient has a version, shown as its ETag, and a write whose If-Match
names an older one is refused with 412, through the API and the admin alike."""

from http import HTTPStatus

import pytest
from django.db.models.signals import post_init, pre_save

from patients.models import Patient
from patients.services import patient_delete, patient_update
from patients.tests.admin_pages import ADD, CHANGELIST, change_url, form_data, meanwhile
from patients.tests.factories import ANN, PatientFactory

pytestmark = pytest.mark.django_db

MODIFIED = {"error": "Patient was modified by someone else"}


@pytest.fixture
def patient():
    return PatientFactory(**ANN)


def _url(patient) -> str:
    return f"/patients/{patient.pk}"


def test_get_shows_the_version_in_the_body_and_as_a_strong_etag(alice, patient):
    response = alice.get(_url(patient))

    assert response.json()["version"] == 1
    assert response.headers["ETag"] == '"1"'


def test_every_write_response_carries_the_new_etag(alice):
    created = alice.post("/patients", {**ANN}, format="json")
    url = created.headers["Location"]
    updated = alice.put(url, {"name": "Ann Roe"}, format="json", HTTP_IF_MATCH='"1"')
    patched = alice.patch(url, {"name": "Ann Moe"}, format="json", HTTP_IF_MATCH='"2"')
    deleted = alice.delete(url, HTTP_IF_MATCH='"3"')

    assert [r.headers["ETag"] for r in (created, updated, patched, deleted)] == [
        '"1"',
        '"2"',
        '"3"',
        '"4"',
    ]
    assert patched.json()["patient"]["version"] == 3


@pytest.mark.parametrize("if_match", ['"1"', 'W/"1"', '"7", W/"1"', "*"])
def test_a_matching_if_match_is_accepted_strong_weak_listed_or_star(alice, patient, if_match):
    response = alice.put(_url(patient), {"name": "Ann Roe"}, format="json", HTTP_IF_MATCH=if_match)

    assert response.status_code == HTTPStatus.OK
    assert response.headers["ETag"] == '"2"'


def test_a_missing_if_match_still_writes_as_the_original_did(alice, patient):
    patient_update(patient=patient, data={"name": "Ann Roe"})

    response = alice.put(_url(patient), {"name": "Ann Moe"}, format="json")

    assert response.status_code == HTTPStatus.OK
    assert Patient.objects.get(pk=patient.pk).name == "Ann Moe"


@pytest.mark.parametrize("method", ["put", "patch"])
def test_a_stale_etag_is_412_with_the_current_etag_and_changes_nothing(alice, patient, method):
    patient_update(patient=patient, data={"name": "Ann Roe"})  # someone else's save: version 2

    response = getattr(alice, method)(
        _url(patient), {"name": "Ann Moe"}, format="json", HTTP_IF_MATCH='"1"'
    )

    assert response.status_code == HTTPStatus.PRECONDITION_FAILED
    assert response.json() == MODIFIED
    assert response.headers["ETag"] == '"2"'
    assert Patient.objects.get(pk=patient.pk).name == "Ann Roe"


def test_a_stale_delete_is_412_and_the_patient_stays(alice, patient):
    patient_update(patient=patient, data={"name": "Ann Roe"})

    response = alice.delete(_url(patient), HTTP_IF_MATCH='W/"1"')

    assert response.status_code == HTTPStatus.PRECONDITION_FAILED
    assert response.json() == MODIFIED
    assert Patient.objects.filter(pk=patient.pk).exists()


@pytest.mark.parametrize(
    "if_match", ["garbage", '""', '"-1"', '"1.0"', '"01"', '"99999999999999999999"']
)
def test_an_if_match_naming_no_version_matches_nothing(alice, patient, if_match):
    response = alice.put(_url(patient), {"name": "Ann Roe"}, format="json", HTTP_IF_MATCH=if_match)

    assert response.status_code == HTTPStatus.PRECONDITION_FAILED
    assert Patient.objects.get(pk=patient.pk).version == 1


def test_an_unknown_patient_is_404_whatever_the_if_match(alice):
    response = alice.put(
        "/patients/7d3c2b1a-0000-4000-8000-000000000000",
        {"name": "X Y"},
        format="json",
        HTTP_IF_MATCH='"1"',
    )

    assert response.status_code == HTTPStatus.NOT_FOUND


def _admin_form(**overrides) -> dict:
    return {
        "name": "Ann Roe",
        "email": ANN["email"],
        "phone": ANN["phone"],
        "preferred_channel": "sms",
        **overrides,
    }


def test_admin_refuses_to_save_a_form_opened_before_someone_elses_save(superuser_client, patient):
    page = superuser_client.get(change_url(patient))
    shown = page.context["adminform"].form["seen_version"].value()
    patient_update(patient=patient, data={"name": "Ann Moe"})  # meanwhile, elsewhere

    response = superuser_client.post(change_url(patient), _admin_form(seen_version=shown))

    assert response.status_code == HTTPStatus.OK  # the form again, with the refusal
    assert "Someone else changed this patient" in response.content.decode()
    saved = Patient.objects.get(pk=patient.pk)
    assert (saved.name, saved.version) == ("Ann Moe", 2)


def test_admin_saves_a_form_of_the_current_version(superuser_client, patient):
    response = superuser_client.post(change_url(patient), _admin_form(seen_version=1))

    assert response.status_code == HTTPStatus.FOUND
    saved = Patient.objects.get(pk=patient.pk)
    assert (saved.name, saved.version) == ("Ann Roe", 2)


def test_admin_save_of_a_patient_someone_else_deleted_meanwhile_says_so(superuser_client, patient):
    with meanwhile(post_init, lambda: patient_delete(patient=patient)):
        response = superuser_client.post(
            change_url(patient), _admin_form(seen_version=1), follow=True
        )

    assert response.redirect_chain == [(CHANGELIST, HTTPStatus.FOUND)]
    assert "Someone else deleted this patient" in response.content.decode()
    # (The stand-in for the other request's delete ran in this request's transaction, so it
    # was rolled back with it.)
    assert not Patient.history.filter(id=patient.pk, history_type="~").exists()


def test_admin_save_of_an_email_someone_else_took_meanwhile_says_so(superuser_client, patient):
    other = {"name": "Bea Quill", "email": "bea@example.com", "phone": "+15550102222"}

    with meanwhile(pre_save, lambda: PatientFactory(**other)):
        response = superuser_client.post(
            change_url(patient), _admin_form(email=other["email"], seen_version=1), follow=True
        )

    assert response.status_code == HTTPStatus.OK
    assert "Patient with this phone or email already exists" in response.content.decode()
    assert Patient.objects.get(pk=patient.pk).email == ANN["email"]


def test_admin_add_of_a_phone_someone_else_took_meanwhile_says_so(superuser_client):
    with meanwhile(pre_save, lambda: PatientFactory(phone="+15551234567")):
        response = superuser_client.post(ADD, form_data(phone="+15551234567"), follow=True)

    assert response.status_code == HTTPStatus.OK
    assert "Patient with this phone or email already exists" in response.content.decode()
    assert not Patient.objects.filter(email="jane@example.com").exists()
