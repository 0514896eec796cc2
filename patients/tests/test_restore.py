"""A deleted patient can be brought back by staff, from the admin's list of deleted patients,
with the same id and a new version."""

from http import HTTPStatus

import pytest
from django.utils import timezone

from patients.models import Patient
from patients.services import (
    PatientNotRestorable,
    patient_create,
    patient_delete,
    patient_restore,
)
from patients.tests.factories import ANN

pytestmark = pytest.mark.django_db

DELETED_LIST = "/admin/patients/deletedpatient/"


@pytest.fixture
def deleted():
    patient = patient_create(**ANN)
    patient_delete(patient=patient)
    return patient


def _restore(client, *versions_of):
    ids = [
        str(Patient.history.filter(id=p.pk, history_type="-").latest("history_id").pk)
        for p in versions_of
    ]
    return client.post(DELETED_LIST, {"action": "restore", "_selected_action": ids}, follow=True)


def test_admin_lists_deleted_patients_and_not_current_ones(superuser_client, deleted):
    patient_create(name="Bea Current", email="bea@example.com", phone="+15550102222")

    response = superuser_client.get(DELETED_LIST)

    assert response.status_code == HTTPStatus.OK
    listed = [version.id for version in response.context["cl"].result_list]
    assert listed == [deleted.pk]


def test_restore_from_the_admin_brings_the_patient_back_with_its_id(
    superuser_client, superuser, deleted, alice
):
    response = _restore(superuser_client, deleted)

    assert "was restored" in response.content.decode()
    restored = Patient.objects.get(pk=deleted.pk)
    assert (restored.name, restored.email, restored.version) == (ANN["name"], ANN["email"], 3)
    assert restored.created_at == deleted.created_at
    # The deleted list no longer shows it, and its history says what happened.
    assert superuser_client.get(DELETED_LIST).context["cl"].result_list.count() == 0
    history = alice.get(f"/patients/{deleted.pk}/history").json()
    assert [(v["version"], v["kind"], v["actor"], v["via"]) for v in history] == [
        (3, "restored", "root", "admin"),
        (2, "deleted", None, "command"),
        (1, "created", None, "command"),
    ]


def test_an_etag_from_before_the_delete_stays_stale_after_a_restore(alice, deleted):
    patient_restore(patient_id=deleted.pk)

    response = alice.put(
        f"/patients/{deleted.pk}", {"name": "Ann Roe"}, format="json", HTTP_IF_MATCH='"1"'
    )

    assert response.status_code == HTTPStatus.PRECONDITION_FAILED
    assert response.headers["ETag"] == '"3"'


def test_restore_is_refused_when_another_patient_now_has_the_email(superuser_client, deleted):
    patient_create(name="Someone Else", email=ANN["email"], phone="+15550107777")

    response = _restore(superuser_client, deleted)

    assert "another patient now has their email or phone" in response.content.decode()
    assert Patient.objects.filter(pk=deleted.pk).count() == 0


def _recorded_before_todays_rules(patient, **details):
    # Versions kept from before the contact and name rules (migration 0006 puts current
    # patients' details in the stored form, not deleted patients' versions).
    Patient.history.filter(id=patient.pk).update(**details)


def test_an_email_recorded_in_an_older_spelling_is_restored_in_its_stored_form(
    superuser_client, deleted
):
    _recorded_before_todays_rules(deleted, email="Ann@\uff45xample.com", phone="555-010-1234")

    response = _restore(superuser_client, deleted)

    assert response.status_code == HTTPStatus.OK
    assert "was restored" in response.content.decode()
    restored = Patient.objects.get(pk=deleted.pk)
    assert (restored.email, restored.phone) == ("ann@example.com", "5550101234")


def test_an_older_spelling_of_another_patients_email_is_refused(superuser_client, deleted):
    _recorded_before_todays_rules(deleted, email="ann@\uff45xample.com")
    patient_create(name="Someone Else", email=ANN["email"], phone="+15550107777")

    response = _restore(superuser_client, deleted)

    assert response.status_code == HTTPStatus.OK
    assert "another patient now has their email or phone" in response.content.decode()
    assert not Patient.objects.filter(pk=deleted.pk).exists()


def test_details_that_fail_todays_rules_are_refused_with_a_clear_message(superuser_client, deleted):
    _recorded_before_todays_rules(deleted, name="Ann\u202eeworlraM", email="ann@exa\u200bmple.com")

    response = _restore(superuser_client, deleted)

    assert response.status_code == HTTPStatus.OK
    page = response.content.decode()
    assert (
        "their recorded details fail today&#x27;s rules for patient details (email, name)" in page
    )
    assert not Patient.objects.filter(pk=deleted.pk).exists()


def test_restore_is_refused_when_the_data_was_purged(deleted):
    Patient.history.filter(id=deleted.pk).update(erased_at=timezone.now())

    with pytest.raises(PatientNotRestorable, match="purged"):
        patient_restore(patient_id=deleted.pk)
    assert not Patient.objects.filter(pk=deleted.pk).exists()


def test_a_patient_that_exists_cannot_be_restored(deleted):
    patient_restore(patient_id=deleted.pk)

    with pytest.raises(PatientNotRestorable, match="not deleted"):
        patient_restore(patient_id=deleted.pk)


def test_only_staff_who_may_add_patients_can_restore(staff_client, deleted):
    auditor = staff_client("auditor")

    listed = auditor.get(DELETED_LIST)
    response = _restore(auditor, deleted)

    assert listed.status_code == HTTPStatus.OK
    assert listed.context["action_form"] is None  # no action this user may take
    assert response.status_code == HTTPStatus.OK
    assert not Patient.objects.filter(pk=deleted.pk).exists()
    assert staff_client(None).get(DELETED_LIST).status_code == HTTPStatus.FORBIDDEN


def test_deleted_versions_cannot_be_changed_or_deleted_in_the_admin(superuser_client, deleted):
    version = Patient.history.filter(id=deleted.pk).latest("history_id")

    change = superuser_client.post(f"{DELETED_LIST}{version.pk}/change/", {"name": "X"})
    delete = superuser_client.post(f"{DELETED_LIST}{version.pk}/delete/", {"post": "yes"})

    assert change.status_code == HTTPStatus.FORBIDDEN
    assert delete.status_code == HTTPStatus.FORBIDDEN
    assert Patient.history.filter(id=deleted.pk).count() == 2
