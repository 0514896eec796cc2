"""Reads of the notification outbox."""

from datetime import timedelta

from django.db.models import Count, Min, QuerySet
from django.utils import timezone

from notifications.models import Notification
from patients.models import Patient

UNDELIVERED = (Notification.Status.PENDING, Notification.Status.SENDING)


def notifications_for_patient(*, patient: Patient) -> QuerySet[Notification]:
    """A patient's notifications, newest first."""
    return Notification.objects.filter(patient=patient).order_by("-created_at", "-id")


def notifications_status() -> tuple[dict[str, int], timedelta | None]:
    """Counts by status, and the age of the oldest notification not yet delivered."""
    counts = dict.fromkeys(Notification.Status.values, 0)
    for row in Notification.objects.values("status").annotate(n=Count("pk")).order_by():
        counts[row["status"]] = row["n"]
    oldest = Notification.objects.filter(status__in=UNDELIVERED).aggregate(
        oldest=Min("created_at")
    )["oldest"]
    return counts, (timezone.now() - oldest) if oldest else None
