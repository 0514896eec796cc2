"""What each role may do in the API: the clinician everything, the front desk all but delete,
the auditor only read, and staff without a role nothing. Permissions changed in the admin
apply at once."""

from http import HTTPStatus

import pytest
from django.contrib.auth.models import Group, Permission

from patients.models import Patient
from patients.tests.factories import PatientFactory

pytestmark = pytest.mark.django_db

NEW = {"name": "Ann Lee", "email": "ann@example.com", "phone": "5550101234"}


def test_auditor_reads_but_gets_403_on_every_write(carol):
    patient = PatientFactory()
    detail = f"/patients/{patient.pk}"

    assert carol.get("/patients").status_code == HTTPStatus.OK
    assert carol.get(detail).status_code == HTTPStatus.OK
    for response in (
        carol.post("/patients", NEW, format="json"),
        carol.put(detail, {"name": "X"}, format="json"),
        carol.patch(detail, {"name": "X"}, format="json"),
        carol.delete(detail),
    ):
        assert response.status_code == HTTPStatus.FORBIDDEN
        assert response.json() == {"message": "Forbidden"}
    patient.refresh_from_db()
    assert patient.name != "X"
    assert Patient.objects.count() == 1


def test_front_desk_adds_and_changes_but_may_not_delete(bob):
    created = bob.post("/patients", NEW, format="json")
    detail = f"/patients/{created.json()['patient_id']}"

    assert created.status_code == HTTPStatus.CREATED
    assert bob.put(detail, {"name": "Ann B. Lee"}, format="json").status_code == HTTPStatus.OK
    assert bob.delete(detail).status_code == HTTPStatus.FORBIDDEN
    assert Patient.objects.filter(name="Ann B. Lee").exists()


def test_clinician_may_do_everything(alice):
    created = alice.post("/patients", NEW, format="json")
    detail = f"/patients/{created.json()['patient_id']}"

    assert alice.get(detail).status_code == HTTPStatus.OK
    assert alice.patch(detail, {"name": "Ann B. Lee"}, format="json").status_code == HTTPStatus.OK
    assert alice.delete(detail).status_code == HTTPStatus.OK


def test_user_without_a_role_gets_403_even_for_reading(mallory):
    response = mallory.get("/patients")

    assert response.status_code == HTTPStatus.FORBIDDEN
    assert response.json() == {"message": "Forbidden"}


def test_permissions_changed_in_the_admin_apply_to_the_api_at_once(carol):
    auditors = Group.objects.get(name="auditor")
    auditors.permissions.add(Permission.objects.get(codename="add_patient"))

    response = carol.post("/patients", NEW, format="json")

    assert response.status_code == HTTPStatus.CREATED
