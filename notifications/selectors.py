"""Reads of the notification outbox."""

import contextlib
import uuid
from collections.abc import Callable
from datetime import timedelta

from django.db.models import Count, Min, Q, QuerySet
from django.utils import timezone

from notifications.models import Notification

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
    oldest = Notification.objects.filter(status__in=UNDELIVERED).aggregate(
        oldest=Min("created_at")
    )["oldest"]
    return counts, (timezone.now() - oldest) if oldest else None
