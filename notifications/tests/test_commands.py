"""`manage.py notifications_status`: counts by status and the age of the oldest undelivered."""

import re
from datetime import timedelta
from io import StringIO

import pytest
from django.core.management import call_command
from django.utils import timezone

from notifications.models import Notification
from patients.tests.factories import PatientFactory

pytestmark = pytest.mark.django_db

Status = Notification.Status


def _status() -> tuple[dict[str, int], str]:
    """The command's counts by status, and its 'oldest undelivered' value."""
    out = StringIO()
    call_command("notifications_status", stdout=out)
    *count_lines, oldest_line = out.getvalue().splitlines()
    counts = {}
    for line in count_lines:
        status, count = line.split()
        counts[status] = int(count)
    assert oldest_line.startswith("oldest undelivered: ")
    return counts, oldest_line.removeprefix("oldest undelivered: ")


def _notification(status: str, age: timedelta = timedelta(0)) -> Notification:
    patient = PatientFactory()
    return Notification.objects.create(
        patient=patient,
        channel="sms",
        kind=Notification.Kind.WELCOME,
        recipient=patient.phone,
        status=status,
        created_at=timezone.now() - age,
    )


def _seconds(age: str) -> int:
    match = re.fullmatch(r"(\d+)s", age)
    assert match, age
    return int(match.group(1))


def test_an_empty_outbox_counts_zero_for_every_status_and_none_undelivered():
    counts, oldest = _status()

    assert counts == {"pending": 0, "sending": 0, "sent": 0, "failed": 0, "skipped": 0}
    assert oldest == "none"


def test_counts_each_status():
    for status, n in [(Status.PENDING, 2), (Status.SENT, 3), (Status.FAILED, 1)]:
        for _ in range(n):
            _notification(status)

    counts, _ = _status()

    assert counts == {"pending": 2, "sending": 0, "sent": 3, "failed": 1, "skipped": 0}


def test_the_oldest_undelivered_is_the_oldest_pending_in_seconds():
    _notification(Status.PENDING, age=timedelta(seconds=90))
    _notification(Status.PENDING, age=timedelta(seconds=10))
    _notification(Status.SENT, age=timedelta(hours=2))
    _notification(Status.FAILED, age=timedelta(hours=3))

    _, oldest = _status()

    assert 90 <= _seconds(oldest) < 120


def test_a_notification_left_sending_counts_as_undelivered():
    _notification(Status.SENDING, age=timedelta(minutes=10))
    _notification(Status.PENDING, age=timedelta(seconds=5))

    counts, oldest = _status()

    assert counts["sending"] == 1
    assert 600 <= _seconds(oldest) < 630


def test_nothing_pending_or_sending_is_none_undelivered():
    _notification(Status.SENT, age=timedelta(hours=1))
    _notification(Status.FAILED, age=timedelta(hours=1))
    _notification(Status.SKIPPED, age=timedelta(hours=1))

    counts, oldest = _status()

    assert counts == {"pending": 0, "sending": 0, "sent": 1, "failed": 1, "skipped": 1}
    assert oldest == "none"
