"""`manage.py notifications_status`: counts by status and the age of the oldest undelivered."""

import re
from datetime import datetime, timedelta
from io import StringIO

import pytest
from django.core.management import call_command
from django.utils import timezone

from notifications.tests.factories import NotificationFactory

pytestmark = pytest.mark.django_db


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


def _ago(**delta) -> datetime:
    return timezone.now() - timedelta(**delta)


def _seconds(age: str) -> int:
    match = re.fullmatch(r"(\d+)s", age)
    assert match, age
    return int(match.group(1))


def test_an_empty_outbox_counts_zero_for_every_status_and_none_undelivered():
    counts, oldest = _status()

    assert counts == {"pending": 0, "sending": 0, "sent": 0, "failed": 0, "skipped": 0}
    assert oldest == "none"


def test_counts_each_status():
    NotificationFactory.create_batch(2, pending=True)
    NotificationFactory.create_batch(3, sent=True)
    NotificationFactory(failed=True)

    counts, _ = _status()

    assert counts == {"pending": 2, "sending": 0, "sent": 3, "failed": 1, "skipped": 0}


def test_the_oldest_undelivered_is_the_oldest_pending_in_seconds():
    NotificationFactory(pending=True, created_at=_ago(seconds=90))
    NotificationFactory(pending=True, created_at=_ago(seconds=10))
    NotificationFactory(sent=True, created_at=_ago(hours=2))
    NotificationFactory(failed=True, created_at=_ago(hours=3))

    _, oldest = _status()

    assert 90 <= _seconds(oldest) < 120


def test_a_notification_left_sending_counts_as_undelivered():
    NotificationFactory(sending=True, created_at=_ago(minutes=10))
    NotificationFactory(pending=True, created_at=_ago(seconds=5))

    counts, oldest = _status()

    assert counts["sending"] == 1
    assert 600 <= _seconds(oldest) < 630


def test_nothing_pending_or_sending_is_none_undelivered():
    NotificationFactory(sent=True, created_at=_ago(hours=1))
    NotificationFactory(failed=True, created_at=_ago(hours=1))
    NotificationFactory(skipped=True, created_at=_ago(hours=1))

    counts, oldest = _status()

    assert counts == {"pending": 0, "sending": 0, "sent": 1, "failed": 1, "skipped": 1}
    assert oldest == "none"
