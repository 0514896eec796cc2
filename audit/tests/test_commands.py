"""Management commands that read or write patients record it, as the API does: via
"command", with the user they act for, if any, in one transaction with their work."""

import uuid

import pytest
from django.db import DatabaseError

from accounts.tests.factories import UserFactory
from audit.models import AccessRecord, Action, Via
from audit.services import command_access
from patients.models import Patient
from patients.tests.factories import PatientFactory

pytestmark = pytest.mark.django_db


def test_a_command_records_the_patients_it_read_with_its_actor():
    dana = UserFactory(username="dana")
    patients = PatientFactory.create_batch(2)

    with command_access(command="export_patients", action=Action.PATIENT_EXPORT, user=dana) as ids:
        ids.extend(patient.pk for patient in patients)

    record = AccessRecord.objects.get()
    assert (record.via, record.action, record.status) == (Via.COMMAND, "patient.export", 0)
    assert (record.username, record.token, record.client_ip) == ("dana", "", None)
    assert record.path == "export_patients"
    assert {p.patient_id for p in record.patients.all()} == {p.pk for p in patients}


def test_a_command_without_an_actor_is_recorded_as_no_one():
    with command_access(command="export_patients", action=Action.PATIENT_EXPORT):
        pass

    record = AccessRecord.objects.get()
    assert (record.user, record.username) == (None, "")


def _import_that_fails(made: uuid.UUID) -> None:
    with command_access(command="import_patients", action=Action.PATIENT_CREATE) as ids:
        ids.append(PatientFactory(id=made).pk)
        raise RuntimeError("the file ended early")


def test_a_failed_command_is_rolled_back_and_recorded_as_failed():
    made = uuid.uuid4()

    with pytest.raises(RuntimeError):
        _import_that_fails(made)

    record = AccessRecord.objects.get()
    assert record.status == 1
    assert [p.patient_id for p in record.patients.all()] == [made]
    assert not Patient.objects.filter(pk=made).exists()


def _import_one() -> None:
    with command_access(command="import_patients", action=Action.PATIENT_CREATE) as ids:
        ids.append(PatientFactory().pk)


def test_a_command_whose_record_fails_changes_nothing(records_refused):
    with pytest.raises(DatabaseError, match="no records"):
        _import_one()

    assert not Patient.objects.exists()
