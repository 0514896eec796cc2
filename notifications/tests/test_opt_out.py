"""Opt-outs: a notice for a channel the patient refuses is kept as skipped and never sent, and
a former address keeps the consent the patient gave before the change."""

import pytest

from notifications.backends.base import TransientDeliveryError
from notifications.models import Notification
from notifications.services import notification_deliver, notifications_sweep
from notifications.tests.factories import NotificationFactory
from patients.models import Patient
from patients.services import patient_create, patient_update
from patients.tests.factories import ANN, PatientFactory

pytestmark = pytest.mark.django_db

Status = Notification.Status
Kind = Notification.Kind


def _changed(patient: Patient) -> set[tuple[str, str, str]]:
    """The details-changed notices of a patient, as (channel, recipient, status)."""
    return set(
        Notification.objects.filter(patient=patient, kind=Kind.DETAILS_CHANGED).values_list(
            "channel", "recipient", "status"
        )
    )


def test_an_sms_opted_out_patient_gets_a_skipped_welcome_and_nothing_enqueued(
    django_capture_on_commit_callbacks,
):
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        patient_create(**ANN, sms_opt_out=True)

    notification = Notification.objects.get()
    assert notification.status == Status.SKIPPED
    assert "opted out" in notification.last_error
    assert "sms" in notification.last_error
    assert callbacks == []


def test_an_email_opt_out_skips_only_the_email_notices():
    patient = PatientFactory(**ANN, email_opted_out=True)

    patient_update(patient=patient, data={"email": "ann.new@example.com"})

    assert _changed(patient) == {
        ("sms", "+15550101234", Status.PENDING),
        ("email", "ann@example.com", Status.SKIPPED),
        ("email", "ann.new@example.com", Status.SKIPPED),
    }


def test_opting_out_of_sms_while_changing_phone_still_warns_the_old_phone():
    patient = PatientFactory(**ANN)

    patient_update(patient=patient, data={"phone": "+15550105678", "sms_opt_out": True})

    assert _changed(patient) == {
        ("sms", "+15550101234", Status.PENDING),
        ("sms", "+15550105678", Status.SKIPPED),
    }


def test_opting_back_in_while_changing_phone_skips_the_old_phone():
    patient = PatientFactory(**ANN, sms_opted_out=True)

    patient_update(patient=patient, data={"phone": "+15550105678", "sms_opt_out": False})

    assert _changed(patient) == {
        ("sms", "+15550101234", Status.SKIPPED),
        ("sms", "+15550105678", Status.PENDING),
    }


def test_a_notice_for_a_channel_opted_out_since_it_was_queued_is_skipped_unsent(sms_gateway):
    welcome = NotificationFactory(patient=PatientFactory(**ANN))
    patient_update(patient=welcome.patient, data={"sms_opt_out": True})

    outcome = notification_deliver(notification_id=welcome.pk)

    welcome.refresh_from_db()
    assert outcome.status == "not_claimed"
    assert (welcome.status, welcome.attempts) == (Status.SKIPPED, 0)
    assert "opted out of sms" in welcome.last_error
    assert sms_gateway.total_requests() == 0


class OptOutDuringSend:
    """An SMS backend during whose send the patient opts out (staff save the change while the
    gateway is slow to answer), and that then fails as a busy gateway does."""

    def send(self, message):
        notice = Notification.objects.get(pk=message.id)
        patient_update(patient=notice.patient, data={"sms_opt_out": True})
        raise TransientDeliveryError("SMS gateway answered 503")


def test_a_failed_send_whose_consent_was_withdrawn_meanwhile_is_skipped_not_retried(settings):
    settings.SMS_BACKEND = f"{__name__}.OptOutDuringSend"
    notice = NotificationFactory(patient=PatientFactory(**ANN))

    outcome = notification_deliver(notification_id=notice.pk)

    notice.refresh_from_db()
    assert outcome.status == Status.SKIPPED
    assert outcome.retry_in is None
    assert (notice.status, notice.last_error) == (Status.SKIPPED, "consent withdrawn during a send")


def test_the_sweep_skips_a_dead_workers_notice_whose_consent_was_withdrawn(sms_gateway):
    patient = PatientFactory(**ANN)
    stuck = NotificationFactory(patient=patient, stuck=True)
    patient_update(patient=patient, data={"sms_opt_out": True})

    notifications_sweep()
    notification_deliver(notification_id=stuck.pk)

    stuck.refresh_from_db()
    assert stuck.status == Status.SKIPPED
    assert sms_gateway.total_requests() == 0


def test_a_pending_notice_marked_withdrawn_is_never_claimed(sms_gateway):
    # What a claim sees if it runs between notifications_cancel's two statements.
    notice = NotificationFactory(patient=PatientFactory(**ANN), withdrawn=True)

    outcome = notification_deliver(notification_id=notice.pk)

    assert outcome.status == "not_claimed"
    assert sms_gateway.total_requests() == 0
