"""The rules for patient contact details, shared by the model, the API and the admin."""

import re

from django.core.validators import RegexValidator

# Separators people type in phone numbers; what is left must be an optional + and 7-15 digits
# (the original's rule, capped at E.164's length).
_PHONE_SEPARATORS = re.compile(r"[\s\-.()]")
_PHONE_DIGITS = re.compile(r"^\+?[0-9]+$")
PHONE_MAX_LENGTH = 16

validate_phone = RegexValidator(
    regex=r"^\+?[0-9]{7,15}\Z",
    message="Invalid phone number format",
    code="invalid",
)


def normalize_phone(value: str) -> str:
    """The stored form of a phone number: separators removed, a leading + kept as given."""
    return _PHONE_SEPARATORS.sub("", value)


def looks_like_phone(value: str) -> bool:
    """True for a search term that is digits once separators are gone (e.g. "(555) 123")."""
    return bool(_PHONE_DIGITS.match(normalize_phone(value)))


def normalize_email(value: str) -> str:
    """The stored form of an email address: trimmed and lowercased, so uniqueness ignores case."""
    return value.strip().lower()
