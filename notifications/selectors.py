"""Reads of the notification outbox."""

import contextlib
import uuid
from collections.abc import Callable
from datetime import timedelta

from django.db.models import Count, Min, Q, QuerySet, Sum
from django.utils import timezone

from notifications.models import Channel, Notification

UNDELIVERED = (Notification.Status.PENDING, Notification.Status.SENDING)


NEWEST_FIRST = ("-created_at", "-id")

# Which patients a search term names (a queryset of their ids). The app that owns patients
# registers its own search at start-up (this app imports none of it), so the outbox finds a
# patient the way the patients' own pages do, a phone typed with any separators included.
PatientMatch = Callable[[str], QuerySet]
_patients_matching: PatientMatch | None = None


def patient_search_register(match: PatientMatch) -> None:
    """Set how a search term finds patients, for searching their notices."""
    global _patients_matching
    _patients_matching = match


def notifications_search(queryset: QuerySet[Notification], term: str) -> QuerySet[Notification]:
    """Notices whose id or patient's id is the term, whose recipient contains it, or whose
    patient it names (name, email or phone, as the patients' search reads it)."""
    term = term.strip()
    if not term:
        return queryset
    match = Q(recipient__icontains=term)
    with contextlib.suppress(ValueError):
        match |= Q(pk=uuid.UUID(term)) | Q(patient_id=uuid.UUID(term))
    if _patients_matching is not None:
        match |= Q(patient_id__in=_patients_matching(term))
    return queryset.filter(match)


def notifications_for_patient(*, patient_id) -> QuerySet[Notification]:
    """A patient's notifications, newest first."""
    return Notification.objects.filter(patient_id=patient_id).order_by(*NEWEST_FIRST)


def notifications_status() -> tuple[dict[str, int], timedelta | None]:
    """Counts by status, and the age of the oldest notification not yet delivered."""
    counts = dict.fromkeys(Notification.Status.values, 0)
    for row in Notification.objects.values("status").annotate(n=Count("pk")).order_by():
        counts[row["status"]] = row["n"]
    _, oldest = notifications_undelivered()
    return counts, oldest


def notifications_undelivered() -> tuple[int, timedelta | None]:
    """How many notifications are not yet delivered (pending or sending), and the age of the
    oldest of them (None when there is none)."""
    row = Notification.objects.filter(status__in=UNDELIVERED).aggregate(
        count=Count("pk"), oldest=Min("created_at")
    )
    return row["count"], (timezone.now() - row["oldest"]) if row["oldest"] else None


def notifications_by_status_and_channel() -> dict[tuple[str, str], tuple[int, int]]:
    """For every status and channel (each pair present, at 0 when there is none): how many
    notifications, and how many delivery attempts they took in all. One grouped query."""
    figures = {
        (status, channel): (0, 0)
        for status in Notification.Status.values
        for channel in Channel.values
    }
    rows = (
        Notification.objects.values("status", "channel")
        .annotate(count=Count("pk"), attempts=Sum("attempts"))
        .order_by()
    )
    for row in rows:
        figures[row["status"], row["channel"]] = (row["count"], row["attempts"] or 0)
    return figures
