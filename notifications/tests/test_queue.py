"""What a patient change queues in the outbox, and to whom: a create queues the welcome on the
preferred channel, an update the details-changed notice to the preferred channel and to the old
and the new address of what changed. A notice is published only once the change commits."""

import pytest
from django.core.exceptions import ValidationError
from django.db import transaction

from notifications.models import Notification
from patients.models import Patient
from patients.services import PatientConflict, patient_create, patient_update
from patients.tests.factories import ANN, PatientFactory

pytestmark = pytest.mark.django_db

Status = Notification.Status
Kind = Notification.Kind


@pytest.fixture
def ann() -> Patient:
    return PatientFactory(**ANN)


@pytest.fixture
def ann_by_email() -> Patient:
    return PatientFactory(**ANN, prefers_email=True)


def _changed(patient: Patient) -> set[tuple[str, str, str]]:
    """The details-changed notices of a patient, as (channel, recipient, status)."""
    return set(
        Notification.objects.filter(patient=patient, kind=Kind.DETAILS_CHANGED).values_list(
            "channel", "recipient", "status"
        )
    )


# On create


def test_create_queues_one_pending_welcome_sms_to_the_stored_phone():
    patient = patient_create(**{**ANN, "phone": "+1 (555) 010-1234"})

    notification = Notification.objects.get()
    assert notification.patient == patient
    assert (notification.kind, notification.channel) == (Kind.WELCOME, "sms")
    assert notification.recipient == "+15550101234"
    assert notification.status == Status.PENDING
    assert notification.attempts == 0


def test_create_preferring_email_queues_the_welcome_by_email_only():
    patient_create(**{**ANN, "email": "Ann@Example.com"}, preferred_channel="email")

    notification = Notification.objects.get()
    assert (notification.kind, notification.channel) == (Kind.WELCOME, "email")
    assert notification.recipient == "ann@example.com"
    assert notification.status == Status.PENDING


def test_a_create_rolled_back_by_its_caller_leaves_neither_patient_nor_notification():
    def create_then_fail():
        with transaction.atomic():
            patient_create(**ANN)
            assert Notification.objects.count() == 1
            raise RuntimeError("the request failed after the service returned")

    with pytest.raises(RuntimeError):
        create_then_fail()

    assert not Patient.objects.exists()
    assert not Notification.objects.exists()


def test_create_enqueues_once_and_only_after_commit(django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        patient_create(**ANN)

    assert len(callbacks) == 1


def test_the_enqueue_after_commit_publishes_the_id_to_the_broker(
    queue_length, django_capture_on_commit_callbacks
):
    before = queue_length()

    with django_capture_on_commit_callbacks(execute=True):
        patient_create(**ANN)

    assert queue_length() == before + 1


def test_a_create_failing_validation_enqueues_nothing(django_capture_on_commit_callbacks):
    with (
        django_capture_on_commit_callbacks(execute=False) as callbacks,
        pytest.raises(ValidationError),
    ):
        patient_create(**{**ANN, "email": "not-an-email"})

    assert callbacks == []
    assert not Notification.objects.exists()


def test_a_conflicting_create_enqueues_nothing(ann, django_capture_on_commit_callbacks):
    with (
        django_capture_on_commit_callbacks(execute=False) as callbacks,
        pytest.raises(PatientConflict),
    ):
        patient_create(**{**ANN, "phone": "+15559999999"})

    assert callbacks == []
    assert not Notification.objects.exists()


# On update


def test_a_name_change_queues_one_details_changed_to_the_preferred_channel(
    ann, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        patient_update(patient=ann, data={"name": "Ann Other"})

    assert _changed(ann) == {("sms", "+15550101234", Status.PENDING)}
    assert len(callbacks) == 1


def test_a_phone_change_notifies_the_old_and_the_new_phone_once_each(ann):
    patient_update(patient=ann, data={"phone": "+15550105678"})

    assert _changed(ann) == {
        ("sms", "+15550101234", Status.PENDING),
        ("sms", "+15550105678", Status.PENDING),
    }
    assert Notification.objects.filter(kind=Kind.DETAILS_CHANGED).count() == 2


def test_a_phone_change_for_an_email_patient_also_notifies_the_preferred_email(ann_by_email):
    patient_update(patient=ann_by_email, data={"phone": "+15550105678"})

    assert _changed(ann_by_email) == {
        ("email", "ann@example.com", Status.PENDING),
        ("sms", "+15550101234", Status.PENDING),
        ("sms", "+15550105678", Status.PENDING),
    }


def test_an_email_change_notifies_the_old_and_the_new_email_and_the_preferred_phone(ann):
    patient_update(patient=ann, data={"email": "ann.new@example.com"})

    assert _changed(ann) == {
        ("sms", "+15550101234", Status.PENDING),
        ("email", "ann@example.com", Status.PENDING),
        ("email", "ann.new@example.com", Status.PENDING),
    }


def test_an_email_change_for_an_email_patient_notifies_each_address_once(ann_by_email):
    patient_update(patient=ann_by_email, data={"email": "ann.new@example.com"})

    assert _changed(ann_by_email) == {
        ("email", "ann@example.com", Status.PENDING),
        ("email", "ann.new@example.com", Status.PENDING),
    }
    assert Notification.objects.filter(kind=Kind.DETAILS_CHANGED).count() == 2


def test_an_update_enqueues_once_for_all_its_notices(ann, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        patient_update(patient=ann, data={"phone": "+15550105678", "email": "n@example.com"})

    assert Notification.objects.filter(kind=Kind.DETAILS_CHANGED).count() == 4
    assert len(callbacks) == 1


def test_an_update_that_changes_nothing_queues_nothing(ann, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        # The same details as stored once normalized: no change.
        patient_update(
            patient=ann,
            data={"name": " Ann Marlowe ", "email": "ANN@example.com", "phone": "+1 555 010 1234"},
        )

    assert callbacks == []
    assert not Notification.objects.filter(kind=Kind.DETAILS_CHANGED).exists()


def test_an_update_failing_validation_queues_nothing(ann, django_capture_on_commit_callbacks):
    with (
        django_capture_on_commit_callbacks(execute=False) as callbacks,
        pytest.raises(ValidationError),
    ):
        patient_update(patient=ann, data={"email": "nope"})

    assert callbacks == []
    assert not Notification.objects.filter(kind=Kind.DETAILS_CHANGED).exists()


def test_an_update_to_a_used_phone_conflicts_and_queues_nothing(
    ann, django_capture_on_commit_callbacks
):
    other = PatientFactory()

    with (
        django_capture_on_commit_callbacks(execute=False) as callbacks,
        pytest.raises(PatientConflict),
    ):
        patient_update(patient=ann, data={"phone": other.phone})

    assert callbacks == []
    assert not Notification.objects.filter(kind=Kind.DETAILS_CHANGED).exists()
