"""Reads of the notification outbox."""

from datetime import timedelta

from django.db.models import Count, Min, QuerySet
from django.utils import timezone

from notifications.models import Notification

UNDELIVERED = (Notification.Status.PENDING, Notification.Status.SENDING)


NEWEST_FIRST = ("-created_at", "-id")


def notifications_for_patient(*, patient_id) -> QuerySet[Notification]:
    """A patient's notifications, newest first."""
    return Notification.objects.filter(patient_id=patient_id).order_by(*NEWEST_FIRST)


def notifications_status() -> tuple[dict[str, int], timedelta | None]:
    """Counts by status, and the age of the oldest notification not yet delivered."""
    counts = dict.fromkeys(Notification.Status.values, 0)
    for row in Notification.objects.values("status").annotate(n=Count("pk")).order_by():
        counts[row["status"]] = row["n"]
    oldest = Notification.objects.filter(status__in=UNDELIVERED).aggregate(
        oldest=Min("created_at")
    )["oldest"]
    return counts, (timezone.now() - oldest) if oldest else None
