"""The sweep: it re-enqueues what no task will deliver (a message lost with the broker, a
worker that died mid-send) once it has been so for NOTIFICATION_STALE_AFTER, and leaves alone
what a live worker or a backoff still holds."""

from datetime import timedelta

import pytest
from django.utils import timezone

from notifications.models import Notification
from notifications.services import notification_deliver, notifications_sweep
from notifications.tests.factories import NotificationFactory, long_ago

pytestmark = pytest.mark.django_db

Status = Notification.Status


def test_the_sweep_reenqueues_a_long_pending_notification(queue_length):
    stale = NotificationFactory(stale=True)
    before = queue_length()

    swept = notifications_sweep()

    assert swept == 1
    assert queue_length() == before + 1
    stale.refresh_from_db()
    assert stale.status == Status.PENDING
    # Not due again for another threshold, so a slow queue is not flooded with copies.
    assert timezone.now() - timedelta(seconds=10) < stale.next_attempt_at <= timezone.now()


def test_the_sweep_makes_a_dead_workers_claim_claimable_again(sms_gateway):
    stuck = NotificationFactory(stuck=True)

    notifications_sweep()

    stuck.refresh_from_db()
    assert stuck.status == Status.PENDING
    assert notification_deliver(notification_id=stuck.pk).status == Status.SENT
    stuck.refresh_from_db()
    assert stuck.attempts == 2


def test_the_sweep_enqueues_a_dead_workers_notice_in_the_same_run(queue_length):
    stuck = NotificationFactory(stuck=True)
    before = queue_length()

    swept = notifications_sweep()

    assert swept == 1
    assert queue_length() == before + 1
    stuck.refresh_from_db()
    assert stuck.status == Status.PENDING


def test_the_sweep_fails_a_notice_whose_every_attempt_lost_its_worker(queue_length, settings):
    settings.NOTIFICATION_MAX_ATTEMPTS = 3
    stuck = NotificationFactory(stuck=True, attempts=3)
    before = queue_length()

    notifications_sweep()

    stuck.refresh_from_db()
    assert stuck.status == Status.FAILED
    assert stuck.last_error == "worker lost during every attempt"
    assert queue_length() == before


def test_the_sweep_leaves_fresh_rows_alone(queue_length):
    now = timezone.now()
    pending = NotificationFactory(pending=True, next_attempt_at=now)
    sending = NotificationFactory(sending=True)
    backing_off = NotificationFactory(
        pending=True, created_at=long_ago(), next_attempt_at=now + timedelta(minutes=5)
    )
    sent = NotificationFactory(sent=True, next_attempt_at=long_ago(), sent_at=long_ago())
    failed = NotificationFactory(failed=True, next_attempt_at=long_ago())
    before = queue_length()

    swept = notifications_sweep()

    assert swept == 0
    assert queue_length() == before
    for row, status in [
        (pending, Status.PENDING),
        (sending, Status.SENDING),
        (backing_off, Status.PENDING),
        (sent, Status.SENT),
        (failed, Status.FAILED),
    ]:
        next_attempt_at = row.next_attempt_at
        row.refresh_from_db()
        assert (row.status, row.next_attempt_at) == (status, next_attempt_at)


def test_the_sweep_counts_every_notification_it_enqueues(queue_length):
    NotificationFactory.create_batch(3, stale=True)
    NotificationFactory(pending=True)
    before = queue_length()

    swept = notifications_sweep()

    assert swept == 3
    assert queue_length() == before + 3


def test_a_second_sweep_at_once_does_not_enqueue_copies(queue_length):
    NotificationFactory(stale=True)
    notifications_sweep()
    before = queue_length()

    swept = notifications_sweep()

    assert swept == 0
    assert queue_length() == before
