"""Retries: a transient failure leaves the notice pending with a growing, jittered backoff, a
retry goes out under the same id (the gateway's idempotency key), and a notice that keeps
failing, or fails in a way nobody foresaw, ends `failed` instead of stuck `sending`."""

import json
from datetime import datetime
from http import HTTPStatus

import pytest
import redis
from django.utils import timezone

from notifications.models import Notification
from notifications.services import notification_deliver, notifications_sweep
from notifications.tests.factories import NotificationFactory
from patients.tests.factories import ANN, PatientFactory

pytestmark = pytest.mark.django_db

Status = Notification.Status


def test_a_503_leaves_the_notification_pending_with_a_backoff(notification, sms_gateway):
    sms_gateway.fail_next(HTTPStatus.SERVICE_UNAVAILABLE)

    outcome = notification_deliver(notification_id=notification.pk)

    assert outcome.status == Status.PENDING
    assert outcome.retry_in > 0
    notification.refresh_from_db()
    assert notification.status == Status.PENDING
    assert notification.attempts == 1
    assert "503" in notification.last_error
    assert notification.next_attempt_at > timezone.now()
    assert notification.sent_at is None


def _backoff_elapses(notification: Notification) -> None:
    Notification.objects.filter(pk=notification.pk).update(next_attempt_at=timezone.now())


def _deliver_when_due(notification: Notification):
    """A delivery once any backoff has run out, as the retry's own message comes."""
    _backoff_elapses(notification)
    return notification_deliver(notification_id=notification.pk)


def test_a_retry_after_a_503_delivers_once(notification, sms_gateway):
    sms_gateway.fail_next(HTTPStatus.SERVICE_UNAVAILABLE)
    notification_deliver(notification_id=notification.pk)
    _backoff_elapses(notification)

    outcome = notification_deliver(notification_id=notification.pk)

    assert outcome.status == Status.SENT
    notification.refresh_from_db()
    assert (notification.status, notification.attempts) == (Status.SENT, 2)
    assert notification.last_error == ""
    assert sms_gateway.requests[str(notification.pk)] == 2
    assert list(sms_gateway.delivered) == [str(notification.pk)]


def test_a_message_arriving_before_the_backoff_ends_sends_nothing(notification, sms_gateway):
    sms_gateway.fail_next(HTTPStatus.SERVICE_UNAVAILABLE)
    notification_deliver(notification_id=notification.pk)

    early = notification_deliver(notification_id=notification.pk)  # a duplicate, say

    assert early.status == "not_claimed"
    notification.refresh_from_db()
    assert (notification.status, notification.attempts) == (Status.PENDING, 1)
    assert sms_gateway.total_requests() == 1


def test_503s_up_to_the_attempt_limit_end_failed(notification, sms_gateway, settings):
    settings.NOTIFICATION_MAX_ATTEMPTS = 3
    sms_gateway.fail_next(HTTPStatus.SERVICE_UNAVAILABLE, times=5)

    outcomes = [_deliver_when_due(notification) for _ in range(4)]

    assert [o.status for o in outcomes] == [
        Status.PENDING,
        Status.PENDING,
        Status.FAILED,
        "not_claimed",
    ]
    assert outcomes[2].retry_in is None
    notification.refresh_from_db()
    assert (notification.status, notification.attempts) == (Status.FAILED, 3)
    assert "503" in notification.last_error
    assert sms_gateway.total_requests() == 3


def test_the_backoff_doubles_per_attempt_with_jitter_up_to_the_cap(
    notification, sms_gateway, settings
):
    settings.NOTIFICATION_MAX_ATTEMPTS = 10
    settings.NOTIFICATION_RETRY_BASE_DELAY = 10.0
    settings.NOTIFICATION_RETRY_MAX_DELAY = 25.0
    sms_gateway.fail_next(HTTPStatus.SERVICE_UNAVAILABLE, times=4)

    delays = [_deliver_when_due(notification).retry_in for _ in range(4)]

    # Between half and all of 10, 20, then 40 and 80 capped at 25.
    assert 5 <= delays[0] <= 10
    assert 10 <= delays[1] <= 20
    assert 12.5 <= delays[2] <= 25
    assert 12.5 <= delays[3] <= 25


def test_a_gateway_timeout_is_retried_and_the_retry_is_not_delivered_twice(
    notification, sms_gateway, settings
):
    # The fake gateway delivers, then answers too late: the sender cannot tell it was sent.
    settings.SMS_TIMEOUT = 0.1
    sms_gateway.delay = 0.5

    first = notification_deliver(notification_id=notification.pk)
    sms_gateway.delay = 0
    second = _deliver_when_due(notification)

    assert (first.status, second.status) == (Status.PENDING, Status.SENT)
    notification.refresh_from_db()
    assert (notification.status, notification.attempts) == (Status.SENT, 2)
    # Sent again under the same id, which the gateway honours as an idempotency key.
    assert sms_gateway.requests[str(notification.pk)] == 2
    assert list(sms_gateway.delivered) == [str(notification.pk)]


def test_an_unforeseen_error_is_retried_then_failed_instead_of_stuck_sending(smtp_server, settings):
    # A misconfiguration the start-up check would refuse: Django raises ValueError at send.
    settings.EMAIL_USE_TLS = settings.EMAIL_USE_SSL = True
    settings.NOTIFICATION_MAX_ATTEMPTS = 2
    notification = NotificationFactory(patient=PatientFactory(**ANN), email=True)

    first = notification_deliver(notification_id=notification.pk)
    notification.refresh_from_db()
    status_after_first = notification.status
    Notification.objects.filter(pk=notification.pk).update(next_attempt_at=timezone.now())
    second = notification_deliver(notification_id=notification.pk)
    notification.refresh_from_db()

    assert first.status == Status.PENDING
    assert first.retry_in is not None
    assert status_after_first == Status.PENDING
    assert second.status == Status.FAILED
    assert (notification.status, notification.attempts) == (Status.FAILED, 2)
    assert notification.last_error == "unexpected ValueError in delivery"
    assert not smtp_server.delivered


def test_a_retry_is_published_to_run_when_its_backoff_ends(notification, sms_gateway, test_redis):
    queue = redis.Redis.from_url(test_redis.url)
    queue.delete("celery")
    sms_gateway.fail_next(HTTPStatus.SERVICE_UNAVAILABLE)

    outcome = notification_deliver(notification_id=notification.pk)

    (raw,) = queue.lrange("celery", 0, -1)
    message = json.loads(raw)
    notification.refresh_from_db()
    assert str(notification.pk) in message["headers"]["argsrepr"]
    eta = datetime.fromisoformat(message["headers"]["eta"])
    assert abs((eta - notification.next_attempt_at).total_seconds()) < 5
    assert outcome.retry_in > 0
    assert notification.unpublished is False


def test_a_retry_the_broker_could_not_take_goes_at_the_first_sweep_once_due(
    notification, sms_gateway, test_redis
):
    sms_gateway.fail_next(HTTPStatus.SERVICE_UNAVAILABLE)
    port = test_redis.port
    test_redis.stop()
    try:
        notification_deliver(notification_id=notification.pk)
    finally:
        test_redis.start(port=port)
    notification.refresh_from_db()
    assert (notification.status, notification.unpublished) == (Status.PENDING, True)

    assert notifications_sweep() == 0  # its backoff has not run out yet
    _backoff_elapses(notification)
    assert notifications_sweep() == 1
