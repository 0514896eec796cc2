"""The patient services: the rules every writer (API, admin, commands) goes through."""

import pytest
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction

from notifications.models import Notification
from patients.models import Patient
from patients.services import (
    PatientConflict,
    PatientNotFound,
    patient_create,
    patient_delete,
    patient_update,
)
from patients.tests.factories import PatientFactory

pytestmark = pytest.mark.django_db


def test_create_normalizes_and_saves():
    patient = patient_create(name=" Ann ", email="ANN@Example.com", phone="+44 (20) 7946-0958")

    stored = Patient.objects.get(pk=patient.pk)
    assert (stored.name, stored.email, stored.phone) == ("Ann", "ann@example.com", "+442079460958")


@pytest.mark.parametrize(
    ("field", "value"),
    [("email", "nope"), ("phone", "123"), ("name", "x" * 201), ("name", " ")],
)
def test_create_rejects_bad_details_with_validation_error(field, value):
    details = {"name": "Ann", "email": "ann@example.com", "phone": "5550101234", field: value}

    with pytest.raises(ValidationError) as excinfo:
        patient_create(**details)

    assert field in excinfo.value.message_dict
    assert not Patient.objects.exists()


def test_create_duplicate_raises_conflict_and_keeps_the_outer_transaction_usable():
    PatientFactory(email="ann@example.com")

    with transaction.atomic():
        with pytest.raises(PatientConflict):
            patient_create(name="Ann", email="Ann@example.com", phone="5550109999")
        # The failed insert rolled back to its savepoint: this transaction goes on.
        patient_create(name="Bo", email="bo@example.com", phone="5550108888")

    assert Patient.objects.count() == 2


def test_update_only_writes_what_changed():
    patient = PatientFactory(name="Ann")
    updated_at = patient.updated_at

    patient_update(patient=patient, data={"name": "Ann", "email": patient.email.upper()})

    patient.refresh_from_db()
    assert patient.updated_at == updated_at


def test_update_ignores_fields_that_are_not_editable():
    patient = PatientFactory()
    original_id, created_at = patient.pk, patient.created_at

    patient_update(patient=patient, data={"id": "x", "created_at": None, "name": "New"})

    patient.refresh_from_db()
    assert (patient.pk, patient.created_at, patient.name) == (original_id, created_at, "New")


def test_update_to_a_taken_phone_raises_conflict():
    taken = PatientFactory()
    patient = PatientFactory()

    with pytest.raises(PatientConflict):
        patient_update(patient=patient, data={"phone": taken.phone})

    assert Patient.objects.get(pk=patient.pk).phone != taken.phone


def test_delete_removes_the_row():
    patient = PatientFactory()

    patient_delete(patient=patient)

    assert not Patient.objects.exists()


def test_database_refuses_a_mixed_case_email_written_around_the_services():
    with pytest.raises(IntegrityError), transaction.atomic():
        Patient.objects.create(name="Ann", email="Ann@example.com", phone="5550101234")


def test_update_compares_with_the_stored_row_not_a_stale_copy():
    patient = PatientFactory(name="Ann")
    stale = Patient.objects.get(pk=patient.pk)
    patient_update(patient=patient, data={"name": "Bo"})

    saved = patient_update(patient=stale, data={"name": "Ann"})

    assert saved.name == "Ann"
    assert Patient.objects.get(pk=patient.pk).name == "Ann"


def test_update_warns_the_phone_that_was_stored_even_from_a_stale_copy():
    patient = PatientFactory(phone="+15550000001")
    stale = Patient.objects.get(pk=patient.pk)
    patient_update(patient=patient, data={"phone": "+15550000002"})

    patient_update(patient=stale, data={"phone": "+15550000003"})

    last_change = Notification.objects.filter(recipient__in=["+15550000002", "+15550000003"])
    assert set(last_change.values_list("recipient", flat=True)) == {
        "+15550000002",
        "+15550000003",
    }


def test_update_of_a_patient_deleted_meanwhile_is_not_found():
    patient = PatientFactory()
    Patient.objects.filter(pk=patient.pk).delete()

    with pytest.raises(PatientNotFound):
        patient_update(patient=patient, data={"name": "Ghost"})


def test_deleting_a_patient_keeps_their_notices_and_the_pending_ones_still_go_out():
    patient = patient_create(name="Ann Lee", email="ann@example.com", phone="+15550101234")
    patient_update(patient=patient, data={"phone": "+15550109999"})

    patient_delete(patient=patient)

    kept = Notification.objects.all()
    assert kept.count() == 3  # the welcome, and the change to the old and the new phone
    assert all(n.patient_id is None and n.first_name == "Ann" for n in kept)
    assert set(kept.values_list("status", flat=True)) == {Notification.Status.PENDING}
