"""Delivering one email notice to the aiosmtpd server on loopback: the notification id is the
Message-ID, a 5xx refusal of the recipient fails at once, a 4xx or an unreachable server is
retried. No worker runs here: a delivery is a direct call to the service the task would make."""

import pytest
from django.utils import timezone

from notifications.models import Notification
from notifications.services import notification_deliver
from notifications.tests.factories import NotificationFactory
from patients.tests.factories import ANN, PatientFactory

pytestmark = pytest.mark.django_db

Status = Notification.Status


@pytest.fixture
def notification() -> Notification:
    """Ann's welcome email, pending."""
    return NotificationFactory(patient=PatientFactory(**ANN, prefers_email=True), email=True)


def test_deliver_sends_one_email_with_the_notification_id_as_message_id(
    notification, smtp_server, settings
):
    settings.CLINIC_NAME = "Harbour Street Clinic"

    outcome = notification_deliver(notification_id=notification.pk)
    again = notification_deliver(notification_id=notification.pk)

    assert (outcome.status, again.status) == (Status.SENT, "not_claimed")
    message_id = f"<{notification.pk}@{settings.EMAIL_MESSAGE_ID_DOMAIN}>"
    assert smtp_server.received == {message_id: 1}
    message = smtp_server.delivered[message_id]
    assert message["To"] == "ann@example.com"
    assert message["Subject"] == "Welcome to Harbour Street Clinic"
    body = message.get_payload()
    assert "Ann" in body
    assert "Marlowe" not in body
    notification.refresh_from_db()
    assert (notification.status, notification.attempts) == (Status.SENT, 1)
    assert notification.sent_at is not None


def test_a_recipient_rejected_with_550_fails_at_once(notification, smtp_server):
    smtp_server.reject_with = "550 5.1.1 <ann@example.com>: mailbox unavailable"

    outcome = notification_deliver(notification_id=notification.pk)

    assert (outcome.status, outcome.retry_in) == (Status.FAILED, None)
    notification.refresh_from_db()
    assert (notification.status, notification.attempts) == (Status.FAILED, 1)
    assert "550" in notification.last_error
    assert "ann@example.com" not in notification.last_error
    assert not smtp_server.delivered


def test_a_recipient_deferred_with_450_stays_pending(notification, smtp_server):
    smtp_server.reject_with = "450 4.2.1 <ann@example.com>: try again later"

    outcome = notification_deliver(notification_id=notification.pk)

    assert outcome.status == Status.PENDING
    assert outcome.retry_in > 0
    notification.refresh_from_db()
    assert (notification.status, notification.attempts) == (Status.PENDING, 1)
    assert "450" in notification.last_error
    assert "ann@example.com" not in notification.last_error
    assert notification.next_attempt_at > timezone.now()


def test_an_smtp_server_refusing_connections_is_transient(notification, settings):
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT = "127.0.0.1", 1

    outcome = notification_deliver(notification_id=notification.pk)

    assert outcome.status == Status.PENDING
    notification.refresh_from_db()
    assert (notification.status, notification.attempts) == (Status.PENDING, 1)
    assert "unreachable" in notification.last_error
