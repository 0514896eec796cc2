"""The rules for patient details, shared by the model, the API and the admin.

An email address or phone number is stored in one canonical form, the form mail and phone
systems route by, so two spellings that reach the same mailbox or phone are one value and the
unique constraints see them as one patient. What cannot be put in that form is refused.
"""

import functools
import re
import unicodedata
from datetime import date

import idna
from django.core.exceptions import ValidationError
from django.core.validators import EmailValidator, RegexValidator
from django.utils import timezone

INVALID_EMAIL = "Invalid email format"
INVALID_PHONE = "Invalid phone number format"

EMAIL_MAX_LENGTH = 254  # RFC 5321's path limit, less the angle brackets
_LOCAL_PART_MAX_LENGTH = 64  # RFC 5321
# Longer input cannot shrink to a valid address; refused before any Unicode work is done on it.
_EMAIL_INPUT_MAX_LENGTH = 4 * EMAIL_MAX_LENGTH

# Control, format (zero-width and bidirectional marks, soft hyphen), surrogate, private-use and
# unassigned code points, and the line and paragraph separators: invisible or unprintable, so
# a value holding one looks like another value that does not.
_HIDDEN_CATEGORIES = frozenset({"Cc", "Cf", "Cs", "Co", "Cn", "Zl", "Zp"})

# RFC 5322's dot-atom, in ASCII (Django's own rule for the unquoted local part).
_DOT_ATOM = re.compile(r"[-!#$%&'*+/=?^_`{}|~0-9a-z]+(?:\.[-!#$%&'*+/=?^_`{}|~0-9a-z]+)*\Z")
_QUOTED_PAIR = re.compile(r"\\(.)", re.DOTALL)

# Django's validator, less its allowlist: no patient's mailbox is on "localhost".
_validate_email_syntax = EmailValidator(message=INVALID_EMAIL, allowlist=[])

# Separators people type in phone numbers; what is left must be an optional + and 7-15 digits
# (the original's rule, capped at E.164's length).
_PHONE_SEPARATORS = frozenset("-.()")
_PHONE_DIGITS = re.compile(r"^\+?[0-9]+$")
PHONE_MAX_LENGTH = 16

validate_phone = RegexValidator(
    regex=r"^\+?[0-9]{7,15}\Z",
    message=INVALID_PHONE,
    code="invalid",
)


def has_hidden_characters(value: str) -> bool:
    """True if the value holds a character that is invisible or unprintable."""
    return any(unicodedata.category(char) in _HIDDEN_CATEGORIES for char in value)


def _phone_char(char: str) -> str:
    if unicodedata.category(char) == "Nd":
        return str(unicodedata.decimal(char))  # Arabic-Indic, full-width, Devanagari...
    if unicodedata.category(char) == "Zs":
        return ""
    folded = unicodedata.normalize("NFKC", char)  # the full-width forms of + - ( ) .
    if folded in _PHONE_SEPARATORS:
        return ""
    if folded == "+":
        return folded
    # Anything else (a letter, a superscript digit, a tab inside the number, an invisible
    # character) stays, so that validate_phone refuses the number.
    return char


def normalize_phone(value: str) -> str:
    """The stored form of a phone number: digits of any script as ASCII digits, spaces and
    separators removed, a leading + kept as given. Never raises; validate_phone judges it."""
    return "".join(_phone_char(char) for char in value.strip())


def looks_like_phone(value: str) -> bool:
    """True for a search term that is digits once separators are gone (e.g. "(555) 123")."""
    return bool(_PHONE_DIGITS.match(normalize_phone(value)))


def _invalid_email() -> ValidationError:
    return ValidationError(INVALID_EMAIL, code="invalid")


def _canonical_local_part(local: str) -> str:
    if len(local) >= 2 and local[0] == local[-1] == '"':
        # "john"@example.com is delivered to john@example.com. A quoted local part that is not
        # a dot-atom once unquoted ("john doe", "a@b") is a mailbox few systems can reach.
        local = _QUOTED_PAIR.sub(r"\1", local[1:-1])
    local = local.lower()
    if len(local) > _LOCAL_PART_MAX_LENGTH or not _DOT_ATOM.match(local):
        raise _invalid_email()
    return local


def _canonical_domain(domain: str) -> str:
    # Domain literals ("[192.0.2.1]") have several spellings per address and no patient needs one.
    if domain.startswith("["):
        raise _invalid_email()
    canonical = _idna_domain(domain)
    if canonical is None:
        raise _invalid_email()
    return canonical


# Cached: IDNA is most of an address's checking, and most addresses share a few domains (an
# import of a hundred thousand rows checks each twice). The input is capped by
# _EMAIL_INPUT_MAX_LENGTH, so the cache is too.
@functools.lru_cache(maxsize=1024)
def _idna_domain(domain: str) -> str | None:
    try:
        # UTS #46 maps case, widths and the ideographic full stop; IDNA2008 then refuses what
        # is not a valid label (and a fake "xn--" label). Round-tripping through the U-label
        # gives each name exactly one A-label.
        ascii_domain = idna.encode(domain, uts46=True, std3_rules=True).decode("ascii")
        ascii_domain = ascii_domain.removesuffix(".")  # the root: "example.com." is example.com
        return idna.encode(idna.decode(ascii_domain)).decode("ascii")
    except (idna.IDNAError, UnicodeError):
        return None


def normalize_email(value: str) -> str:
    """The stored form of an email address: the one spelling mail is routed by.

    Surrounding whitespace is trimmed; Unicode compatibility forms are folded (NFKC, so
    full-width letters, digits and at sign are their ASCII selves); a quoted local part is
    unquoted; the local part is lowercased; the domain is put in its IDNA ASCII form (the
    A-label: "bücher.com" is "xn--bcher-kva.com", as DNS and SMTP see it), lowercased and
    without a trailing dot. Raises ValidationError for what has no such form: invisible or
    control characters, a domain IDNA refuses, anything that is not an address once folded.
    """
    value = value.strip()
    if len(value) > _EMAIL_INPUT_MAX_LENGTH or has_hidden_characters(value):
        raise _invalid_email()
    value = unicodedata.normalize("NFKC", value)
    if has_hidden_characters(value) or "@" not in value:
        raise _invalid_email()
    local, domain = value.rsplit("@", 1)
    canonical = f"{_canonical_local_part(local)}@{_canonical_domain(domain)}"
    if len(canonical) > EMAIL_MAX_LENGTH:
        raise _invalid_email()
    _validate_email_syntax(canonical)
    return canonical


def email_search_form(term: str) -> str:
    """A search term as stored emails spell it, so "bücher" finds "xn--bcher-kva.com": the
    term's non-ASCII labels after any "@" (or, without one, anywhere) in their IDNA ASCII
    form. A term with no such form is searched as typed."""
    term = unicodedata.normalize("NFKC", term).lower()
    if term.isascii():
        return term
    local, at, domain = term.rpartition("@")
    try:
        labels = [
            label if label.isascii() else idna.encode(label, uts46=True).decode("ascii")
            for label in domain.split(".")
        ]
    except (idna.IDNAError, UnicodeError):
        return term
    return f"{local}{at}{'.'.join(labels)}"


def validate_canonical_email(value: str) -> None:
    """Refuse an email address not in its stored form, so a write that skips normalize_email
    cannot store a second spelling of an address."""
    if normalize_email(value) != value:
        raise _invalid_email()


def normalize_name(value: str) -> str:
    """The stored form of a name: trimmed, with composed accents (NFC), so a name typed with
    a separate combining accent is found by a search typed with the accented letter."""
    return unicodedata.normalize("NFC", value.strip())


def validate_name(value: str) -> None:
    """A name holds at least one letter and no invisible or control characters (a
    right-to-left override or a line break would change how notices and pages show it)."""
    if has_hidden_characters(value):
        raise ValidationError(
            "Name must not contain control or invisible characters", code="invalid"
        )
    if not any(unicodedata.category(char).startswith("L") for char in value):
        raise ValidationError("Name must contain a letter", code="invalid")


# What separates a name's words: whitespace and the comma or semicolon of "Doe, John", in any
# script's form.
_NAME_SEPARATORS = re.compile(r"[\s,;:/|()\[\]<>\"\uff0c\u3001\uff1b\u060c\u061b]+")
FIRST_NAME_MAX_LENGTH = 50


def first_name(name: str) -> str:
    """The first word of a name that holds a letter ("Doe" in "Doe,John"), at most 50
    characters: the only part of a name that notices and logs may carry."""
    for word in _NAME_SEPARATORS.split(name):
        if any(unicodedata.category(char).startswith("L") for char in word):
            return word[:FIRST_NAME_MAX_LENGTH]
    return ""


# No one alive was born before this; an earlier date is a typing slip (0001-01-01, 1089-...).
EARLIEST_BIRTH_DATE = date(1900, 1, 1)


def validate_birth_date(value: date) -> None:
    """A birth date is a past day (in the clinic's time zone) no earlier than 1900."""
    if value > timezone.localdate():
        raise ValidationError("Birth date cannot be in the future", code="future")
    if value < EARLIEST_BIRTH_DATE:
        raise ValidationError("Birth date cannot be before 1900-01-01", code="too_early")
