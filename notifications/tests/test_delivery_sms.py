"""Delivering one SMS notice to the fake Twilio-compatible gateway on loopback, and how its
answers are taken: 2xx is sent, 429 and 5xx are retried, any other 4xx fails at once. No
worker runs here: a delivery is a direct call to the service the task would make."""

from http import HTTPStatus

import pytest

from notifications.models import Notification
from notifications.services import notification_deliver
from notifications.tests.factories import NotificationFactory

pytestmark = pytest.mark.django_db

Status = Notification.Status


def test_deliver_sends_the_sms_once_and_marks_it_sent(notification, sms_gateway, settings):
    settings.CLINIC_NAME = "Harbour Street Clinic"

    outcome = notification_deliver(notification_id=notification.pk)

    assert outcome.status == Status.SENT
    notification.refresh_from_db()
    assert notification.status == Status.SENT
    assert notification.sent_at is not None
    assert notification.attempts == 1
    assert notification.last_error == ""
    assert sms_gateway.requests == {str(notification.pk): 1}
    form = sms_gateway.delivered[str(notification.pk)]
    assert (form["To"], form["From"]) == ("+15550101234", settings.SMS_FROM)


def test_the_sms_carries_the_first_name_and_clinic_and_nothing_else_of_the_record(
    notification, sms_gateway, settings
):
    settings.CLINIC_NAME = "Harbour Street Clinic"

    notification_deliver(notification_id=notification.pk)

    body = sms_gateway.delivered[str(notification.pk)]["Body"]
    assert "Ann" in body
    assert "Harbour Street Clinic" in body
    assert "Marlowe" not in body
    assert "ann@example.com" not in body
    assert "0101234" not in body


def test_delivering_again_is_not_claimed_and_sends_nothing(notification, sms_gateway):
    notification_deliver(notification_id=notification.pk)

    outcome = notification_deliver(notification_id=notification.pk)

    assert outcome.status == "not_claimed"
    assert sms_gateway.total_requests() == 1
    notification.refresh_from_db()
    assert notification.attempts == 1


def test_a_skipped_notification_is_never_claimed(sms_gateway):
    notification = NotificationFactory(skipped=True)

    outcome = notification_deliver(notification_id=notification.pk)

    assert outcome.status == "not_claimed"
    assert sms_gateway.total_requests() == 0
    notification.refresh_from_db()
    assert (notification.status, notification.attempts) == (Status.SKIPPED, 0)


def test_a_400_fails_at_once_without_retry(notification, sms_gateway):
    sms_gateway.fail_next(HTTPStatus.BAD_REQUEST)

    outcome = notification_deliver(notification_id=notification.pk)
    again = notification_deliver(notification_id=notification.pk)

    assert (outcome.status, outcome.retry_in) == (Status.FAILED, None)
    assert again.status == "not_claimed"
    notification.refresh_from_db()
    assert (notification.status, notification.attempts) == (Status.FAILED, 1)
    assert "400" in notification.last_error
    assert sms_gateway.total_requests() == 1


@pytest.mark.parametrize(
    "status",
    [
        HTTPStatus.TOO_MANY_REQUESTS,
        HTTPStatus.INTERNAL_SERVER_ERROR,
        HTTPStatus.BAD_GATEWAY,
        HTTPStatus.GATEWAY_TIMEOUT,
    ],
)
def test_a_429_or_5xx_from_the_gateway_is_retried(notification, sms_gateway, status):
    sms_gateway.fail_next(status)

    outcome = notification_deliver(notification_id=notification.pk)

    assert outcome.status == Status.PENDING
    notification.refresh_from_db()
    assert notification.status == Status.PENDING
    assert str(status.value) in notification.last_error


@pytest.mark.parametrize(
    "status", [HTTPStatus.UNAUTHORIZED, HTTPStatus.FORBIDDEN, HTTPStatus.NOT_FOUND]
)
def test_another_4xx_from_the_gateway_fails_at_once(notification, sms_gateway, status):
    sms_gateway.fail_next(status)

    outcome = notification_deliver(notification_id=notification.pk)

    assert outcome.status == Status.FAILED
    notification.refresh_from_db()
    assert (notification.status, notification.attempts) == (Status.FAILED, 1)


def test_a_gateway_refusing_connections_is_transient(notification, sms_gateway, settings):
    settings.SMS_GATEWAY_URL = "http://127.0.0.1:1"

    outcome = notification_deliver(notification_id=notification.pk)

    assert outcome.status == Status.PENDING
    assert outcome.retry_in > 0
    notification.refresh_from_db()
    assert (notification.status, notification.attempts) == (Status.PENDING, 1)
    assert "unreachable" in notification.last_error


@pytest.mark.parametrize(
    "failure", [HTTPStatus.SERVICE_UNAVAILABLE, HTTPStatus.BAD_REQUEST, "refused"]
)
def test_the_kept_error_never_holds_the_phone_number(notification, sms_gateway, settings, failure):
    if failure == "refused":
        settings.SMS_GATEWAY_URL = "http://127.0.0.1:1"
    else:
        sms_gateway.fail_next(failure)

    notification_deliver(notification_id=notification.pk)

    notification.refresh_from_db()
    assert notification.last_error
    assert "0101234" not in notification.last_error
