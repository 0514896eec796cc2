"""The patient admin through Django's test client: list, search, add, edit and delete, each by
the same services as the API, and each allowed only to the roles that hold the permission."""

from datetime import timedelta
from http import HTTPStatus
from unittest import mock

import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.test import Client
from django.utils import timezone

from accounts.services import roles_setup
from patients import services
from patients.models import Patient
from patients.tests.factories import PatientFactory

pytestmark = pytest.mark.django_db

CHANGELIST = "/admin/patients/patient/"
ADD = "/admin/patients/patient/add/"


def change_url(patient: Patient) -> str:
    return f"/admin/patients/patient/{patient.pk}/change/"


def delete_url(patient: Patient) -> str:
    return f"/admin/patients/patient/{patient.pk}/delete/"


@pytest.fixture
def superuser_client() -> Client:
    user = get_user_model().objects.create_superuser("root", "root@example.com", password=None)
    client = Client()
    client.force_login(user)
    return client


@pytest.fixture
def staff_client():
    """A client logged in as a staff user who is in the given role (or in none)."""
    roles_setup()

    def login(role: str | None) -> Client:
        user = get_user_model().objects.create_user(
            f"staff-{role or 'none'}", password=None, is_staff=True
        )
        if role is not None:
            user.groups.add(Group.objects.get(name=role))
        client = Client()
        client.force_login(user)
        return client

    return login


def form_data(**overrides) -> dict:
    return {
        "name": "Jane Doe",
        "email": "jane@example.com",
        "phone": "5551234567",
        "preferred_channel": "sms",
        **overrides,
    }


def listed(response) -> list[Patient]:
    return list(response.context["cl"].result_list)


def test_changelist_lists_patients_newest_first(superuser_client):
    oldest, middle, newest = PatientFactory.create_batch(3)
    now = timezone.now()
    for age_in_days, patient in ((3, oldest), (2, middle), (1, newest)):
        Patient.objects.filter(pk=patient.pk).update(created_at=now - timedelta(days=age_in_days))

    response = superuser_client.get(CHANGELIST)

    assert response.status_code == HTTPStatus.OK
    assert listed(response) == [newest, middle, oldest]


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


@pytest.mark.parametrize(
    "term",
    [
        "Zelda",
        "zelda q",
        "ZQ@Clinic.example",
        "clinic.example",
        "5550001111",
        "0001111",
        "(555) 000-1111",
    ],
    ids=[
        "first-name",
        "name-any-case",
        "email-any-case",
        "email-domain",
        "phone",
        "phone-part",
        "phone-as-typed",
    ],
)
def test_search_finds_patients_by_name_email_or_phone(superuser_client, term):
    match = PatientFactory(name="Zelda Quinn", email="zq@clinic.example", phone="+15550001111")
    PatientFactory(name="Other Person", email="other@example.com", phone="+15559998888")

    response = superuser_client.get(CHANGELIST, {"q": term})

    assert response.status_code == HTTPStatus.OK
    assert listed(response) == [match]


def test_search_without_a_match_lists_nothing(superuser_client):
    PatientFactory(name="Zelda Quinn")

    response = superuser_client.get(CHANGELIST, {"q": "Nobody"})

    assert response.status_code == HTTPStatus.OK
    assert listed(response) == []


def test_add_form_creates_a_patient_through_the_service_in_stored_form(superuser_client):
    with mock.patch(
        "patients.admin.patient_create", autospec=True, side_effect=services.patient_create
    ) as create:
        response = superuser_client.post(
            ADD,
            form_data(name="  Jane Doe ", email="Jane.Doe@Example.COM", phone="(555) 123-4567"),
        )

    assert response.status_code == HTTPStatus.FOUND
    patient = Patient.objects.get()
    assert (patient.name, patient.email, patient.phone) == (
        "Jane Doe",
        "jane.doe@example.com",
        "5551234567",
    )
    create.assert_called_once()
    assert create.call_args.kwargs["email"] == "jane.doe@example.com"
    assert create.call_args.kwargs["actor"].username == "root"


def test_add_form_redirects_to_the_changelist_with_the_new_patient(superuser_client):
    response = superuser_client.post(ADD, form_data(), follow=True)

    assert response.redirect_chain == [(CHANGELIST, HTTPStatus.FOUND)]
    assert listed(response) == [Patient.objects.get(email="jane@example.com")]


@pytest.mark.parametrize(
    ("field", "duplicate"),
    [("email", "TAKEN@example.COM"), ("phone", "(555) 000-1111"), ("phone", "555.000.1111")],
)
def test_add_form_with_a_used_email_or_phone_shows_an_error_and_creates_nothing(
    superuser_client, field, duplicate
):
    PatientFactory(email="taken@example.com", phone="5550001111")

    with mock.patch(
        "patients.admin.patient_create", autospec=True, side_effect=services.patient_create
    ) as create:
        response = superuser_client.post(ADD, form_data(**{field: duplicate}))

    assert response.status_code == HTTPStatus.OK
    assert "already exists" in str(response.context["adminform"].form.errors[field])
    assert Patient.objects.count() == 1
    create.assert_not_called()


@pytest.mark.parametrize(
    ("field", "value"),
    [("email", "not-an-email"), ("phone", "12-34"), ("phone", "555123456x"), ("name", "")],
)
def test_add_form_with_invalid_details_shows_an_error_and_creates_nothing(
    superuser_client, field, value
):
    response = superuser_client.post(ADD, form_data(**{field: value}))

    assert response.status_code == HTTPStatus.OK
    assert response.context["adminform"].form.errors[field]
    assert not Patient.objects.exists()


def test_id_and_timestamps_are_read_only_not_form_fields(superuser_client):
    patient = PatientFactory()

    response = superuser_client.get(change_url(patient))

    assert response.status_code == HTTPStatus.OK
    adminform = response.context["adminform"]
    assert set(adminform.form.fields) == {
        "name",
        "email",
        "phone",
        "preferred_channel",
        "sms_opt_out",
        "email_opt_out",
    }
    assert set(adminform.readonly_fields) == {"id", "created_at", "updated_at", "notices"}
    assert str(patient.pk) in response.content.decode()


def test_change_form_updates_only_what_changed_through_the_service(superuser_client):
    patient = PatientFactory(name="Jane Doe", email="jane@example.com", phone="+15550001111")
    Patient.objects.filter(pk=patient.pk).update(
        created_at=timezone.now() - timedelta(days=30),
        updated_at=timezone.now() - timedelta(days=30),
    )
    before = Patient.objects.get(pk=patient.pk)

    with mock.patch(
        "patients.admin.patient_update", autospec=True, side_effect=services.patient_update
    ) as update:
        response = superuser_client.post(
            change_url(patient),
            {
                "name": "Jane Roe",
                "email": "jane@example.com",
                "phone": "+15550001111",
                "preferred_channel": "sms",
            },
        )

    assert response.status_code == HTTPStatus.FOUND
    after = Patient.objects.get(pk=patient.pk)
    assert (after.name, after.email, after.phone) == ("Jane Roe", before.email, before.phone)
    assert after.created_at == before.created_at
    assert after.updated_at > before.updated_at
    update.assert_called_once()
    assert update.call_args.kwargs["data"] == {"name": "Jane Roe"}


def test_change_form_normalizes_a_new_email_and_phone(superuser_client):
    patient = PatientFactory()

    response = superuser_client.post(
        change_url(patient),
        {
            "name": patient.name,
            "email": "New@Example.COM",
            "phone": "+1 555 222 3333",
            "preferred_channel": "sms",
        },
    )

    assert response.status_code == HTTPStatus.FOUND
    patient.refresh_from_db()
    assert (patient.email, patient.phone) == ("new@example.com", "+15552223333")


def test_change_form_ignores_posted_id_and_timestamps(superuser_client):
    patient = PatientFactory()
    before = Patient.objects.get(pk=patient.pk)

    response = superuser_client.post(
        change_url(patient),
        {
            "name": "Renamed",
            "email": patient.email,
            "phone": patient.phone,
            "preferred_channel": "sms",
            "id": "00000000-0000-0000-0000-000000000000",
            "created_at": "2000-01-01 00:00:00",
            "updated_at": "2000-01-01 00:00:00",
        },
    )

    assert response.status_code == HTTPStatus.FOUND
    after = Patient.objects.get()
    assert after.pk == before.pk
    assert after.name == "Renamed"
    assert after.created_at == before.created_at


def test_change_form_refuses_another_patients_email(superuser_client):
    PatientFactory(email="taken@example.com")
    patient = PatientFactory(email="mine@example.com")

    response = superuser_client.post(
        change_url(patient),
        {
            "name": patient.name,
            "email": "Taken@Example.com",
            "phone": patient.phone,
            "preferred_channel": "sms",
        },
    )

    assert response.status_code == HTTPStatus.OK
    assert response.context["adminform"].form.errors["email"]
    patient.refresh_from_db()
    assert patient.email == "mine@example.com"


def test_change_form_without_changes_writes_nothing(superuser_client):
    patient = PatientFactory(phone="+15550001111")
    before = Patient.objects.get(pk=patient.pk)

    response = superuser_client.post(
        change_url(patient),
        # The same values as typed by a person: a different case and separators.
        {
            "name": patient.name,
            "email": patient.email.upper(),
            "phone": "+1 555 000 1111",
            "preferred_channel": "sms",
        },
    )

    assert response.status_code == HTTPStatus.FOUND
    assert Patient.objects.get(pk=patient.pk).updated_at == before.updated_at


def _with_notices(count: int) -> list[Patient]:
    """Patients made as in real use: each with the welcome notice its creation queued."""
    return [
        services.patient_create(
            name=f"Pat{n} Lee", email=f"pat{n}@example.com", phone=f"+1555010{n:04d}"
        )
        for n in range(count)
    ]


def test_delete_confirmation_deletes_through_the_service(superuser_client):
    patient, other = _with_notices(2)

    confirmation = superuser_client.get(delete_url(patient))
    with mock.patch(
        "patients.admin.patient_delete", autospec=True, side_effect=services.patient_delete
    ) as delete:
        response = superuser_client.post(delete_url(patient), {"post": "yes"})

    assert confirmation.status_code == HTTPStatus.OK
    assert response.status_code == HTTPStatus.FOUND
    assert list(Patient.objects.all()) == [other]
    delete.assert_called_once()
    assert delete.call_args.kwargs["actor"].username == "root"


def test_bulk_delete_action_deletes_the_selected_patients_through_the_service(
    superuser_client,
):
    first, second, kept = _with_notices(3)
    selected = [str(first.pk), str(second.pk)]

    confirmation = superuser_client.post(
        CHANGELIST, {"action": "delete_selected", "_selected_action": selected}
    )
    assert confirmation.status_code == HTTPStatus.OK
    assert Patient.objects.count() == 3  # the first POST only asks for confirmation
    with mock.patch(
        "patients.admin.patient_delete", autospec=True, side_effect=services.patient_delete
    ) as delete:
        response = superuser_client.post(
            CHANGELIST,
            {"action": "delete_selected", "_selected_action": selected, "post": "yes"},
        )

    assert response.status_code == HTTPStatus.FOUND
    assert list(Patient.objects.all()) == [kept]
    assert delete.call_count == 2  # one service call per patient, none bypassing it


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


def test_add_form_takes_a_phone_typed_longer_than_its_stored_form(superuser_client):
    response = superuser_client.post(ADD, form_data(phone="+1 (555) 123-4567"))

    assert response.status_code == HTTPStatus.FOUND
    assert Patient.objects.get().phone == "+15551234567"
