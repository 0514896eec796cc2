"""The optional birth date: `birth_date` in the REST API, kept in the history, shown in the
admin. The original's clients never send one and see it as null."""

from datetime import date, timedelta
from http import HTTPStatus

import pytest
import time_machine
from django.utils import timezone

from patients.models import Patient
from patients.tests.factories import ANN, PatientFactory

pytestmark = pytest.mark.django_db


def _create(client, **overrides):
    return client.post("/patients", {**ANN, **overrides}, format="json")


def test_a_patient_created_without_a_birth_date_has_none(alice):
    response = _create(alice)

    assert response.status_code == HTTPStatus.CREATED, response.content
    assert response.json()["patient"]["birth_date"] is None
    assert Patient.objects.get().birth_date is None


def test_a_birth_date_is_stored_and_shown_as_iso_8601(alice):
    response = _create(alice, birth_date="1984-03-02")

    assert response.status_code == HTTPStatus.CREATED, response.content
    patient_id = response.json()["patient_id"]
    assert Patient.objects.get().birth_date == date(1984, 3, 2)
    assert alice.get(f"/patients/{patient_id}").json()["birth_date"] == "1984-03-02"


@pytest.mark.parametrize(
    "value",
    ["02/03/1984", "1984-02-30", "1984-3-2T00:00", "", "yesterday", 19840302, ["1984-03-02"]],
)
def test_a_birth_date_that_is_not_a_date_is_400_and_creates_nothing(alice, value):
    response = _create(alice, birth_date=value)

    assert response.status_code == HTTPStatus.BAD_REQUEST, response.content
    assert "birth_date" in response.json()["errors"]
    assert not Patient.objects.exists()


def test_a_birth_date_in_the_future_is_refused(alice):
    tomorrow = timezone.localdate() + timedelta(days=1)

    response = _create(alice, birth_date=tomorrow.isoformat())

    assert response.status_code == HTTPStatus.BAD_REQUEST
    assert response.json()["errors"]["birth_date"] == ["Birth date cannot be in the future"]
    assert not Patient.objects.exists()


def test_a_birth_date_before_1900_is_refused_as_a_typing_slip(alice):
    response = _create(alice, birth_date="0984-03-02")

    assert response.status_code == HTTPStatus.BAD_REQUEST
    assert response.json()["errors"]["birth_date"] == ["Birth date cannot be before 1900-01-01"]


def test_a_baby_born_today_in_the_clinics_time_zone_is_accepted(alice, settings):
    # 23:30 UTC on 1 March is already 2 March in Tokyo, where the clinic is.
    settings.TIME_ZONE = "Asia/Tokyo"
    with time_machine.travel("2026-03-01 23:30:00+00:00", tick=False):
        response = _create(alice, birth_date="2026-03-02")

    assert response.status_code == HTTPStatus.CREATED, response.content


def test_an_update_that_leaves_the_birth_date_out_keeps_it_and_null_clears_it(alice):
    patient_id = _create(alice, birth_date="1984-03-02").json()["patient_id"]

    kept = alice.put(f"/patients/{patient_id}", {"name": "Ann Roe"}, format="json")
    cleared = alice.patch(f"/patients/{patient_id}", {"birth_date": None}, format="json")

    assert kept.json()["patient"]["birth_date"] == "1984-03-02"
    assert cleared.status_code == HTTPStatus.OK
    assert cleared.json()["patient"]["birth_date"] is None
    assert Patient.objects.get().birth_date is None


def test_the_history_records_a_birth_date_change(alice):
    patient_id = _create(alice).json()["patient_id"]
    alice.patch(f"/patients/{patient_id}", {"birth_date": "1984-03-02"}, format="json")

    newest, first = alice.get(f"/patients/{patient_id}/history").json()

    assert newest["changed"] == ["birth_date"]
    assert newest["patient"]["birth_date"] == "1984-03-02"
    assert first["patient"]["birth_date"] is None


def test_the_admin_list_shows_birth_dates_to_tell_namesakes_apart(admin_client):
    PatientFactory(name="Maria Lopez", birth_date=date(1961, 7, 4))
    PatientFactory(name="Maria Lopez", birth_date=date(1990, 1, 15))

    response = admin_client.get("/admin/patients/patient/")

    assert response.status_code == HTTPStatus.OK
    page = response.content.decode()
    assert "1961-07-04" in page
    assert "1990-01-15" in page


def test_the_admin_saves_a_birth_date(admin_client):
    patient = PatientFactory()
    form = {
        "name": patient.name,
        "email": patient.email,
        "phone": patient.phone,
        "preferred_channel": "sms",
        "birth_date": "1984-03-02",
        "seen_version": patient.version,
    }

    response = admin_client.post(f"/admin/patients/patient/{patient.pk}/change/", form)

    assert response.status_code == HTTPStatus.FOUND, response.content[:2000]
    patient.refresh_from_db()
    assert patient.birth_date == date(1984, 3, 2)
    assert patient.version == 2
