"""The patient's admin page as clinic staff use it: their notices on it, and a title and a
delete confirmation that tell two namesakes apart, while the admin's own log keeps no more
of the patient than the first name."""

from http import HTTPStatus

import pytest
from django.contrib.admin.models import LogEntry
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.test import Client

from accounts.services import roles_setup
from notifications.models import Notification
from patients.models import Patient
from patients.services import patient_create, patient_update

pytestmark = pytest.mark.django_db


@pytest.fixture
def front_desk() -> Client:
    roles_setup()
    user = get_user_model().objects.create_user("desk", password=None, is_staff=True)
    user.groups.add(Group.objects.get(name="front_desk"))
    client = Client()
    client.force_login(user)
    return client


def _maria(phone: str, email: str) -> Patient:
    return patient_create(name="Maria Lopez", email=email, phone=phone)


def test_the_patient_page_lists_their_notices_newest_first_with_recipient_and_status(
    front_desk,
):
    maria = _maria("+15550105338", "maria@example.com")
    patient_update(patient=maria, data={"phone": "+15550109999"})

    page = front_desk.get(f"/admin/patients/patient/{maria.pk}/change/").content.decode()

    table = page[page.index('class="patient-notices"') :]
    rows = table.split("<tr>")[2:]  # after the header row
    assert len(rows) == 3  # the welcome, then the change to the old and to the new phone
    assert "Welcome" in rows[-1]
    assert "Details changed" in rows[0]
    assert "+15550105338" in table
    assert "+15550109999" in table
    assert all("Pending" in row or "Sent" in row for row in rows)


def test_the_patient_page_shows_no_other_patients_notices(front_desk):
    maria = _maria("+15550105338", "maria@example.com")
    _maria("+15550107777", "maria.two@example.com")

    page = front_desk.get(f"/admin/patients/patient/{maria.pk}/change/").content.decode()

    assert "+15550107777" not in page


def test_the_page_title_and_heading_name_the_patient_in_full_with_the_phone_ending(front_desk):
    maria = _maria("+15550105338", "maria@example.com")

    page = front_desk.get(f"/admin/patients/patient/{maria.pk}/change/").content.decode()

    assert "Maria Lopez (phone ending 5338)" in page
    title = page[page.index("<title>") : page.index("</title>")]
    assert "Maria Lopez (phone ending 5338)" in title


def test_the_delete_confirmation_tells_two_marias_apart(admin_client):
    first = _maria("+15550105338", "maria@example.com")
    _maria("+15550107777", "maria.two@example.com")

    page = admin_client.get(f"/admin/patients/patient/{first.pk}/delete/").content.decode()

    assert "Maria Lopez (phone ending 5338)" in page
    assert "phone ending 7777" not in page


def test_the_bulk_delete_confirmation_names_each_patient_in_full(admin_client):
    first = _maria("+15550105338", "maria@example.com")
    second = _maria("+15550107777", "maria.two@example.com")

    page = admin_client.post(
        "/admin/patients/patient/",
        {"action": "delete_selected", "_selected_action": [first.pk, second.pk]},
    ).content.decode()

    assert "Maria Lopez (phone ending 5338)" in page
    assert "Maria Lopez (phone ending 7777)" in page


def test_the_admin_log_keeps_only_the_first_name_of_a_deleted_patient(admin_client):
    maria = _maria("+15550105338", "maria@example.com")

    admin_client.post(f"/admin/patients/patient/{maria.pk}/delete/", {"post": "yes"})

    assert not Patient.objects.filter(pk=maria.pk).exists()
    (entry,) = LogEntry.objects.all()
    assert entry.object_repr == f"Maria ({str(maria.pk)[:8]})"
    assert "Lopez" not in entry.object_repr
    assert "5338" not in entry.object_repr


def test_an_auditor_sees_the_notices_but_a_user_without_the_permission_does_not(front_desk):
    maria = _maria("+15550105338", "maria@example.com")
    user = get_user_model().objects.create_user("viewer", password=None, is_staff=True)
    user.user_permissions.add(
        *Group.objects.get(name="auditor").permissions.exclude(codename="view_notification")
    )
    client = Client()
    client.force_login(user)

    page = client.get(f"/admin/patients/patient/{maria.pk}/change/")

    assert page.status_code == HTTPStatus.OK
    assert 'class="patient-notices"' not in page.content.decode()
    assert Notification.objects.filter(patient=maria).exists()
