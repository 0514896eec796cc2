"""Reads of the access audit."""

import uuid
from datetime import datetime

from django.db.models import Prefetch, Q, QuerySet

from audit.models import AccessRecord, AccessRecordPatient

NEWEST_FIRST = ("-at", "-id")
# The largest id a user can have (a 64-bit key); a longer number is a username or nothing.
_MAX_ID_DIGITS = 18


def _by_user(term: str) -> Q:
    """A username, or a user's id (the records of a deleted user keep only the username)."""
    match = Q(username=term)
    if term.isascii() and term.isdigit() and len(term) <= _MAX_ID_DIGITS:
        match |= Q(user_id=int(term))
    return match


def access_records(
    *,
    patient_id: uuid.UUID | None = None,
    user: str | None = None,
    since: datetime | None = None,
) -> QuerySet[AccessRecord]:
    """Access records, newest first, with their patient ids: those naming a patient, those of
    a user (username or id), those from a time on; the filters combine."""
    records = AccessRecord.objects.all()
    if patient_id is not None:
        records = records.filter(patients__patient_id=patient_id)
    if user:
        records = records.filter(_by_user(user))
    if since is not None:
        records = records.filter(at__gte=since)
    ids = AccessRecordPatient.objects.order_by("id").only("record_id", "patient_id")
    return records.order_by(*NEWEST_FIRST).prefetch_related(Prefetch("patients", queryset=ids))


def access_records_search(queryset: QuerySet[AccessRecord], term: str) -> QuerySet[AccessRecord]:
    """The admin's search box: a patient's id finds the records naming them, anything else
    is a username (or a user's id)."""
    term = term.strip()
    if not term:
        return queryset
    try:
        return queryset.filter(patients__patient_id=uuid.UUID(term))
    except ValueError:
        return queryset.filter(_by_user(term))
