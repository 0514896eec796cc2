"""Reads of patient records."""

from django.core.exceptions import ValidationError
from django.db.models import Q, QuerySet

from api.ids import uuid_or_none
from notifications.models import Notification
from patients.models import EDITABLE_FIELDS, Patient
from patients.validators import (
    email_search_form,
    looks_like_phone,
    normalize_email,
    normalize_phone,
    validate_phone,
)

# The API's order: oldest first, with the id to break ties, so cursors are stable.
LIST_ORDERING = ("created_at", "id")


# Versions, newest first; the id breaks ties between versions made in the same instant.
HISTORY_ORDERING = ("-history_date", "-history_id")

# A version's kind, from django-simple-history's history_type.
_KINDS = {"+": "created", "~": "updated", "-": "deleted"}


def patient_get(*, patient_id) -> Patient | None:
    """The patient with this id, or None for an unknown or malformed id."""
    pk = uuid_or_none(patient_id)
    if pk is None:
        return None
    return Patient.objects.filter(pk=pk).first()


def patient_history(*, patient_id) -> QuerySet | None:
    """Every version of a patient, newest first, the deleted ones' included; None for an id
    that never existed."""
    pk = uuid_or_none(patient_id)
    if pk is None:
        return None
    versions = Patient.history.filter(id=pk).select_related("history_user")
    if not versions.exists():
        return None
    return versions.order_by(*HISTORY_ORDERING)


def patient_versions_described(versions: list) -> list[dict]:
    """Each version (a page of patient_history, newest first) with its kind and the fields
    it changed from the version before it."""
    if not versions:
        return []
    last = versions[-1]
    older = (
        Patient.history.filter(id=last.id)
        .filter(
            Q(history_date__lt=last.history_date)
            | Q(history_date=last.history_date, history_id__lt=last.history_id)
        )
        .order_by(*HISTORY_ORDERING)
        .first()
    )
    described = []
    for version, previous in zip(versions, [*versions[1:], older], strict=True):
        kind = _KINDS[version.history_type]
        if version.history_type == "+" and version.history_change_reason == "restored":
            kind = "restored"
        if kind == "updated" and previous is not None:
            changed = [f for f in EDITABLE_FIELDS if getattr(version, f) != getattr(previous, f)]
        elif kind == "created":
            changed = list(EDITABLE_FIELDS)
        else:
            changed = []
        described.append({"version": version, "kind": kind, "changed": changed})
    return described


def patient_list(*, search: str | None = None) -> QuerySet[Patient]:
    """Patients in the API's stable order, optionally matching a search term."""
    return patient_search(Patient.objects.order_by(*LIST_ORDERING), search)


def patient_search(queryset: QuerySet[Patient], term: str | None) -> QuerySet[Patient]:
    """Narrow patients to those whose name, email or phone contains the term.

    A term that looks like a phone number is normalized like one first, so "(555) 123"
    finds "+15551234567", and an internationalized domain is searched in the form emails are
    stored in, so "bücher" finds "…@xn--bcher-kva.com". The API's list and the admin's search
    box both use this.

    A whole email address, or a whole phone number with its country code ("+44 7700 900123"),
    is the patient who has it: matched whole, by the unique index, which at a million
    patients answers at once where a "contains" reads the whole table.
    """
    term = (term or "").strip()
    if not term:
        return queryset
    whole = _whole_contact(term)
    if whole is not None:
        return queryset.filter(whole)
    phone_term = normalize_phone(term) if looks_like_phone(term) else term
    return queryset.filter(
        Q(name__icontains=term)
        | Q(email__icontains=email_search_form(term))
        | Q(phone__contains=phone_term)
    )


def _whole_contact(term: str) -> Q | None:
    """The lookup of a term that is a whole email address or international phone number."""
    if "@" in term:
        try:
            return Q(email=normalize_email(term))
        except ValidationError:
            return None
    if not looks_like_phone(term):
        return None
    number = normalize_phone(term)
    try:
        validate_phone(number)
    except ValidationError:
        return None
    # Without its country code, a number may be the end of a stored one: a "contains" then.
    return Q(phone=number) if number.startswith("+") else None


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
