"""Resending a notice that is done: the same message to the same address, as a new row under a
new id (a gateway that dedupes by id would swallow it under the old one)."""

import pytest

from notifications.models import Notification
from notifications.services import notification_deliver, notification_resend
from notifications.tests.factories import NotificationFactory
from patients.services import patient_update
from patients.tests.factories import ANN, PatientFactory

pytestmark = pytest.mark.django_db

Status = Notification.Status


def test_resend_queues_a_new_pending_row_for_the_same_message(django_capture_on_commit_callbacks):
    original = NotificationFactory(failed=True, attempts=3, last_error="gateway answered 400")

    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        copy = notification_resend(notification=original)

    assert copy.pk != original.pk
    copy.refresh_from_db()
    assert (copy.patient, copy.channel, copy.kind, copy.recipient) == (
        original.patient,
        original.channel,
        original.kind,
        original.recipient,
    )
    assert (copy.status, copy.attempts, copy.last_error) == (Status.PENDING, 0, "")
    assert len(callbacks) == 1
    original.refresh_from_db()
    assert (original.status, original.attempts) == (Status.FAILED, 3)


def test_a_resent_notification_is_delivered_under_its_new_id(sms_gateway):
    original = NotificationFactory()
    notification_deliver(notification_id=original.pk)

    copy = notification_resend(notification=original)
    notification_deliver(notification_id=copy.pk)

    assert set(sms_gateway.delivered) == {str(original.pk), str(copy.pk)}


def test_a_resend_to_an_address_the_patient_has_opted_out_of_is_skipped():
    patient = PatientFactory(**ANN)
    sent = NotificationFactory(patient=patient, sent=True)
    patient_update(patient=patient, data={"sms_opt_out": True})

    copy = notification_resend(notification=sent)

    assert (copy.status, copy.last_error) == (Status.SKIPPED, "patient opted out of sms")


def test_a_resend_to_a_former_address_keeps_the_consent_given_before_the_change():
    patient = PatientFactory(**ANN)
    sent = NotificationFactory(patient=patient, sent=True)  # to +15550101234
    patient_update(patient=patient, data={"phone": "+15550109999"})
    patient_update(patient=patient, data={"sms_opt_out": True})

    copy = notification_resend(notification=sent)

    assert (copy.status, copy.recipient) == (Status.PENDING, "+15550101234")
