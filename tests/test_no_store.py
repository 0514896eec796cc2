"""Nothing the API or the admin answers may be kept by a browser or a proxy: every answer but
the static files says `Cache-Control: no-store`."""

import pytest

from patients.tests.factories import PatientFactory

pytestmark = pytest.mark.django_db


def _not_stored(response) -> bool:
    return response["Cache-Control"] == "no-store" and response["Pragma"] == "no-cache"


def test_the_patient_list_and_a_patient_are_not_stored(alice):
    patient = PatientFactory()

    listed = alice.get("/patients")
    one = alice.get(f"/patients/{patient.pk}")

    assert listed.status_code == 200
    assert one.status_code == 200
    assert _not_stored(listed)
    assert _not_stored(one)


def test_a_login_answer_with_its_token_is_not_stored(anonymous, django_user_model):
    django_user_model.objects.create_user("dora", password="a long enough passphrase")

    response = anonymous.post(
        "/auth/login",
        {"username": "dora", "password": "a long enough passphrase"},
        format="json",
    )

    assert response.status_code == 200, response.content
    assert "token" in response.json()
    assert _not_stored(response)


def test_errors_are_not_stored_either(anonymous):
    response = anonymous.get("/patients")

    assert response.status_code == 401
    assert _not_stored(response)


def test_admin_pages_are_not_stored(admin_client):
    patient = PatientFactory()

    pages = [
        admin_client.get("/admin/"),
        admin_client.get("/admin/patients/patient/"),
        admin_client.get(f"/admin/patients/patient/{patient.pk}/change/"),
    ]

    assert [page.status_code for page in pages] == [200, 200, 200]
    assert all(_not_stored(page) for page in pages)
