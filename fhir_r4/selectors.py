"""Reads for the FHIR face: the Patient search (FHIR's parameters over patients.selectors),
a patient's state (current, deleted or unknown), its versions, and saved POST searches."""

import re
import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, timedelta

from django.core.exceptions import ValidationError
from django.db.models import Q, QuerySet
from django.utils import timezone

from fhir_r4.exceptions import FhirError
from fhir_r4.models import SavedSearch
from patients.models import Patient
from patients.selectors import LIST_ORDERING, patient_get, patient_history
from patients.validators import (
    email_search_form,
    looks_like_phone,
    normalize_email,
    normalize_name,
    normalize_phone,
)

# The search parameters a Patient search takes (each `name[:modifier]`), and the ones that
# shape the result rather than select patients.
SEARCH_PARAMETERS = (
    "name",
    "name:contains",
    "name:exact",
    "email",
    "phone",
    "birthdate",
    "_id",
    "identifier",
)
RESULT_PARAMETERS = ("_count",)
# Parameters of the paging machinery, in links only: the cursor, a saved search's id, and
# FHIR's `_format` (the content negotiation's).
PAGING_PARAMETERS = ("cursor", "_search_id", "_format")

# birthdate's value: a prefix and a year, year-month or full date (FHIR's date search).
_DATE_VALUE = re.compile(r"(eq|ne|lt|le|gt|ge)?(\d{4})(?:-(\d{2})(?:-(\d{2}))?)?")
# Longest value worth comparing: no stored name, email or phone is longer.
_MAX_VALUE_LENGTH = 256
# The most values a search takes, a parameter's and all its parameters' (each value given
# and each of its comma-separated alternatives counts): each is a condition in the query,
# and thousands of them tie a worker (and, for a POST search, the audit's transaction) up.
MAX_VALUES_PER_PARAMETER = 10
MAX_VALUES = 20
# Our identifier: the patient's id as a URN, in the system of URIs.
_IDENTIFIER_SYSTEM = "urn:ietf:rfc:3986"
# Characters a name holds between its parts, for FHIR's "starts with" on any part.
_NAME_SEPARATORS = (" ", "-", ",", "'", ".")


@dataclass
class PatientState:
    """What is known of a patient id: the patient (None if there is none now) and whether
    it was deleted (it has versions but no record)."""

    patient: Patient | None
    deleted: bool


def patient_state(*, patient_id) -> PatientState:
    """The patient with this id, or whether one was deleted (its history has it)."""
    patient = patient_get(patient_id=patient_id)
    if patient is not None:
        return PatientState(patient, deleted=False)
    return PatientState(None, deleted=patient_history(patient_id=patient_id) is not None)


def patient_version(*, patient_id, version_id: str):
    """The version of a patient numbered `version_id` (a row of Patient.history), or None.
    Of two rows with one number (there should be none), the newer."""
    if not (version_id.isascii() and version_id.isdigit()) or len(version_id) > 9:
        return None
    versions = patient_history(patient_id=patient_id)
    if versions is None:
        return None
    return versions.filter(version=int(version_id)).first()


def saved_search_get(*, search_id: str, user) -> SavedSearch | None:
    """A saved POST search of this user's that has not expired, or None (unknown, expired or
    someone else's alike: another user learns nothing of it)."""
    if not search_id or len(search_id) > SavedSearch._meta.get_field("id").max_length:
        return None
    return SavedSearch.objects.filter(
        pk=search_id, user=user, expires_at__gt=timezone.now()
    ).first()


def search_parameters(params: Mapping[str, list[str]], *, strict: bool) -> dict[str, list[str]]:
    """The parameters of a search that this server uses, each with its values (a parameter
    given twice must match both, FHIR's AND). Others are left out, as FHIR's lenient
    handling says, or, with `strict` (`Prefer: handling=strict`), refused with a 400. A
    modifier this server does not know on a parameter it does is always refused, and so
    (`too-costly`) is a search with more values than MAX_VALUES_PER_PARAMETER in one
    parameter or MAX_VALUES in all."""
    used = {}
    total = 0
    for key, values in params.items():
        if key in PAGING_PARAMETERS:
            continue
        base = key.partition(":")[0]
        known = key in SEARCH_PARAMETERS or key in RESULT_PARAMETERS
        if not known and (strict or base in SEARCH_PARAMETERS or base in RESULT_PARAMETERS):
            raise FhirError(
                f"Search parameter {key[:60]!r} is not supported: see /fhir/metadata",
                code="not-supported",
            )
        if known:
            for value in values:
                if "\x00" in value:
                    raise FhirError(f"Search parameter {key} holds a NUL character")
            count = sum(value.count(",") + 1 for value in values)
            total += count
            if count > MAX_VALUES_PER_PARAMETER or total > MAX_VALUES:
                raise FhirError(
                    f"A search takes at most {MAX_VALUES_PER_PARAMETER} values a parameter "
                    f"and {MAX_VALUES} in all (comma-separated alternatives each count)",
                    code="too-costly",
                )
            used[key] = list(values)
    return used


def page_size(params: Mapping[str, list[str]]) -> int | None:
    """The `_count` asked for (the last one given), or None; a 400 when it is not a whole
    number of 0 or more. 0 asks for the total only."""
    values = params.get("_count")
    if not values:
        return None
    value = values[-1].strip()
    if not (value.isascii() and value.isdigit()) or len(value) > 9:
        raise FhirError("_count must be a whole number of 0 or more")
    return int(value)


def patients_search(params: Mapping[str, list[str]]) -> QuerySet[Patient]:
    """The patients matching FHIR search parameters (from search_parameters), in the REST
    API's order (patients.selectors.LIST_ORDERING), so the REST cursor pages them.

    - name: any part of the name starts with the value (FHIR's string search, case-blind);
      name:contains anywhere in it; name:exact the whole name, as stored.
    - email, phone: the stored address, the value normalized as the patients' search does
      (an email in its stored spelling, a phone without separators).
    - birthdate: a date, year-month or year, with a prefix eq (the default), ne, lt, le, gt
      or ge; patients whose birth date is unknown match none of them.
    - _id: the id, exactly; identifier: our one identifier, `urn:uuid:<id>`, with or without
      its system (`urn:ietf:rfc:3986|urn:uuid:<id>`). A value of another form matches none.
    A comma between values is an OR; a parameter given twice is an AND.
    """
    queryset = Patient.objects.order_by(*LIST_ORDERING)
    for key, values in params.items():
        match = _MATCHERS.get(key)
        if match is None:
            continue
        for value in values:
            if len(value) > _MAX_VALUE_LENGTH:
                raise FhirError(f"A value of {key} is longer than {_MAX_VALUE_LENGTH}")
            condition = Q()
            for alternative in value.split(","):
                condition |= match(alternative.strip())
            queryset = queryset.filter(condition)
    return queryset


_NOTHING = Q(pk__in=[])


def _name(value: str) -> Q:
    term = normalize_name(value)
    if not term:
        return _NOTHING
    condition = Q(name__istartswith=term)
    for separator in _NAME_SEPARATORS:
        condition |= Q(name__icontains=separator + term)
    return condition


def _name_contains(value: str) -> Q:
    term = normalize_name(value)
    return Q(name__icontains=term) if term else _NOTHING


def _name_exact(value: str) -> Q:
    return Q(name=normalize_name(value))


def _email(value: str) -> Q:
    try:
        stored = normalize_email(value)
    except ValidationError:
        stored = email_search_form(value)
    return Q(email=stored) if stored else _NOTHING


def _phone(value: str) -> Q:
    term = normalize_phone(value) if looks_like_phone(value) else value
    return Q(phone=term) if term else _NOTHING


def _birthdate(value: str) -> Q:
    match = _DATE_VALUE.fullmatch(value)
    if match is None:
        raise FhirError(
            "birthdate must be a date (YYYY, YYYY-MM or YYYY-MM-DD) with an optional prefix "
            "eq, ne, lt, le, gt or ge"
        )
    prefix, year, month, day = match.groups()
    try:
        start = date(int(year), int(month or 1), int(day or 1))
    except ValueError:
        raise FhirError("birthdate is not a real date") from None
    end = _period_end(start, month is not None, day is not None)
    # [start, end): the dates the value spans (a year, a month or a day); no end past 9999.
    before_end = Q(birth_date__lt=end) if end else Q(birth_date__isnull=False)
    from_end = Q(birth_date__gte=end) if end else _NOTHING
    return {
        None: Q(birth_date__gte=start) & before_end,
        "eq": Q(birth_date__gte=start) & before_end,
        "ne": Q(birth_date__lt=start) | from_end,
        "lt": Q(birth_date__lt=start),
        "le": before_end,
        "gt": from_end,
        "ge": Q(birth_date__gte=start),
    }[prefix]


def _period_end(start: date, has_month: bool, has_day: bool) -> date | None:
    """The first day after the year, month or day that starts at `start`, if there is one."""
    try:
        if has_day:
            return start + timedelta(days=1)
        if has_month:
            return date(start.year + (start.month == 12), start.month % 12 + 1, 1)
        return date(start.year + 1, 1, 1)
    except (ValueError, OverflowError):
        return None


def _patient_id(value: str) -> uuid.UUID | None:
    """The id in its canonical form (lowercase, hyphens), else None: an id matches exactly."""
    try:
        parsed = uuid.UUID(value)
    except ValueError:
        return None
    return parsed if str(parsed) == value.lower() else None


def _id(value: str) -> Q:
    patient_id = _patient_id(value)
    return Q(pk=patient_id) if patient_id else _NOTHING


def _identifier(value: str) -> Q:
    # FHIR's token: `system|value`, `|value` (no system: never ours), or `value`.
    system, bar, code = value.rpartition("|")
    if bar and system != _IDENTIFIER_SYSTEM:
        return _NOTHING
    if not code.lower().startswith("urn:uuid:"):
        return _NOTHING
    return _id(code[len("urn:uuid:") :])


_MATCHERS = {
    "name": _name,
    "name:contains": _name_contains,
    "name:exact": _name_exact,
    "email": _email,
    "phone": _phone,
    "birthdate": _birthdate,
    "_id": _id,
    "identifier": _identifier,
}
