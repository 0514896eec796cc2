"""Reads of patient records."""

import uuid

from django.db.models import Q, QuerySet

from notifications.models import Notification
from patients.models import Patient
from patients.validators import looks_like_phone, normalize_phone

# The API's order: oldest first, with the id to break ties, so cursors are stable.
LIST_ORDERING = ("created_at", "id")


def patient_get(*, patient_id) -> Patient | None:
    """The patient with this id, or None for an unknown or malformed id."""
    try:
        pk = uuid.UUID(str(patient_id))
    except ValueError:
        return None
    try:
        return Patient.objects.get(pk=pk)
    except Patient.DoesNotExist:
        return None


def patient_list(*, search: str | None = None) -> QuerySet[Patient]:
    """Patients in the API's stable order, optionally matching a search term."""
    return patient_search(Patient.objects.order_by(*LIST_ORDERING), search)


def patient_search(queryset: QuerySet[Patient], term: str | None) -> QuerySet[Patient]:
    """Narrow patients to those whose name, email or phone contains the term.

    A term that looks like a phone number is normalized like one first, so "(555) 123"
    finds "+15551234567". The API's list and the admin's search box both use this.
    """
    term = (term or "").strip()
    if not term:
        return queryset
    phone_term = normalize_phone(term) if looks_like_phone(term) else term
    return queryset.filter(
        Q(name__icontains=term) | Q(email__icontains=term) | Q(phone__contains=phone_term)
    )


def patient_consents_to_resend(notification: Notification) -> bool:
    """Whether a notice may go again to its recipient: not to an address the patient has now
    opted out of. A former address keeps the consent given before the change (it is how a
    hijacked record is noticed), and so does the notice of a deleted patient."""
    patient = Patient.objects.filter(pk=notification.patient_id).first()
    if patient is None:
        return True
    channel = notification.channel
    return not (notification.recipient == patient.address(channel) and patient.refuses(channel))


def patient_ids_matching(term: str) -> QuerySet:
    """The ids of the patients a search term names (for other apps' searches)."""
    return patient_search(Patient.objects.all(), term).values("pk")
