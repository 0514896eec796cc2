"""Who may do what in the patient admin: every role views, clinicians and the front desk add
and change, only clinicians delete, and staff without a role see nothing."""

from http import HTTPStatus

import pytest

from patients.models import Patient
from patients.tests.admin_pages import ADD, CHANGELIST, change_url, delete_url, form_data, listed
from patients.tests.factories import PatientFactory

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("role", ["clinician", "front_desk", "auditor"])
def test_changelist_loads_for_every_role_that_can_view(staff_client, role):
    patient = PatientFactory()

    response = staff_client(role).get(CHANGELIST)

    assert response.status_code == HTTPStatus.OK
    assert listed(response) == [patient]


def test_changelist_is_forbidden_to_staff_without_a_role(staff_client):
    PatientFactory()

    response = staff_client(None).get(CHANGELIST)

    assert response.status_code == HTTPStatus.FORBIDDEN


def test_clinician_staff_can_delete(staff_client):
    patient = PatientFactory()

    response = staff_client("clinician").post(delete_url(patient), {"post": "yes"})

    assert response.status_code == HTTPStatus.FOUND
    assert not Patient.objects.exists()


def test_front_desk_staff_cannot_delete_one_patient(staff_client):
    patient = PatientFactory()
    client = staff_client("front_desk")

    confirmation = client.get(delete_url(patient))
    response = client.post(delete_url(patient), {"post": "yes"})

    assert confirmation.status_code == HTTPStatus.FORBIDDEN
    assert response.status_code == HTTPStatus.FORBIDDEN
    assert Patient.objects.filter(pk=patient.pk).exists()


def test_front_desk_staff_cannot_bulk_delete(staff_client):
    patients = PatientFactory.create_batch(2)
    client = staff_client("front_desk")

    changelist = client.get(CHANGELIST)
    client.post(
        CHANGELIST,
        {
            "action": "delete_selected",
            "_selected_action": [str(p.pk) for p in patients],
            "post": "yes",
        },
    )

    # Deleting is the only action, so without the permission there is no action form at all.
    assert changelist.context["action_form"] is None
    assert Patient.objects.count() == 2


def test_front_desk_staff_can_add_and_edit(staff_client):
    client = staff_client("front_desk")

    added = client.post(ADD, form_data())
    patient = Patient.objects.get()
    changed = client.post(change_url(patient), form_data(name="Jane Roe"))

    assert added.status_code == HTTPStatus.FOUND
    assert changed.status_code == HTTPStatus.FOUND
    patient.refresh_from_db()
    assert patient.name == "Jane Roe"


def test_auditor_staff_can_view_but_not_add_or_change(staff_client):
    patient = PatientFactory(name="Jane Doe")
    client = staff_client("auditor")

    view = client.get(change_url(patient))
    add = client.post(ADD, form_data(email="new@example.com", phone="5559990000"))
    change = client.post(change_url(patient), form_data(name="Jane Roe"))

    assert view.status_code == HTTPStatus.OK
    assert add.status_code == HTTPStatus.FORBIDDEN
    assert change.status_code == HTTPStatus.FORBIDDEN
    assert list(Patient.objects.values_list("name", flat=True)) == ["Jane Doe"]
