"""OpenAPI descriptions (drf-spectacular) of what the patient views read and answer: the
patterns the fields accept (patients.validators' rules, as far as a pattern can state them),
the headers, every status, and the README's examples."""

from drf_spectacular.extensions import OpenApiSerializerFieldExtension
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiExample, OpenApiParameter, inline_serializer
from rest_framework import serializers

from api.schema import (
    PAGE_PARAMETERS,
    WHITESPACE,
    error_response,
    query_parameter,
    response_header,
    trimmed_text,
)
from patients.serializers import PatientSerializer

# A name (patients.validators.validate_name): 1 to 200 characters once trimmed, and no control
# or invisible character (Unicode's Cc, Cf, Co, Zl and Zp, spelled out for the Basic
# Multilingual Plane; tests/test_openapi.py checks the list against the categories). The rest
# of the rule, a letter of any script and no unassigned or astral invisible character, needs
# Unicode's categories, which no regex dialect that schemathesis's two engines share can
# name: the description says it.
NAME_HIDDEN = (
    r"\x00-\x1f\x7f-\x9f\xad\u0600-\u0605\u061c\u06dd\u070f\u0890-\u0891\u08e2\u180e"
    r"\u200b-\u200f\u2028-\u202e\u2060-\u2064\u2066-\u206f\ue000-\uf8ff\ufeff\ufff9-\ufffb"
)
NAME_PATTERN = (
    rf"^[{WHITESPACE}]*"
    rf"(?=[^{WHITESPACE}](?:.{{0,198}}[^{WHITESPACE}])?[{WHITESPACE}]*$)"  # 1 to 200, trimmed
    rf"[^{NAME_HIDDEN}]*[{WHITESPACE}]*$"  # nothing hidden inside
)

# A phone number as typed (patients.validators.normalize_phone): around it, whitespace; in
# it, spaces of any width and - . ( ) in their ASCII and compatibility forms, which are
# dropped; then an optional + (or a form of it) and 7 to 15 decimal digits of any script
# (the Basic Multilingual Plane's spelled out); at most 64 characters once trimmed.
PHONE_DIGITS = (
    r"0-9\u0660-\u0669\u06f0-\u06f9\u07c0-\u07c9\u0966-\u096f\u09e6-\u09ef\u0a66-\u0a6f"
    r"\u0ae6-\u0aef\u0b66-\u0b6f\u0be6-\u0bef\u0c66-\u0c6f\u0ce6-\u0cef\u0d66-\u0d6f"
    r"\u0de6-\u0def\u0e50-\u0e59\u0ed0-\u0ed9\u0f20-\u0f29\u1040-\u1049\u1090-\u1099"
    r"\u17e0-\u17e9\u1810-\u1819\u1946-\u194f\u19d0-\u19d9\u1a80-\u1a89\u1a90-\u1a99"
    r"\u1b50-\u1b59\u1bb0-\u1bb9\u1c40-\u1c49\u1c50-\u1c59\ua620-\ua629\ua8d0-\ua8d9"
    r"\ua900-\ua909\ua9d0-\ua9d9\ua9f0-\ua9f9\uaa50-\uaa59\uabf0-\uabf9\uff10-\uff19"
)
PHONE_SEPARATORS = (
    r" \xa0\u1680\u2000-\u200a\u202f\u205f\u3000"  # Unicode's space separators (Zs)
    r"\-.()\u2024\u207d\u207e\u208d\u208e\ufe35\ufe36\ufe52\ufe59\ufe5a\ufe63"
    r"\uff08\uff09\uff0d\uff0e"  # - . ( ) and the characters NFKC folds to them
)
PHONE_PLUS = r"+\u207a\u208a\ufb29\ufe62\uff0b"
PHONE_PATTERN = (
    rf"^[{WHITESPACE}]*"
    rf"(?=[^{WHITESPACE}](?:.{{0,62}}[^{WHITESPACE}])?[{WHITESPACE}]*$)"  # 64 at most, trimmed
    rf"[{PHONE_SEPARATORS}]*[{PHONE_PLUS}]?(?:[{PHONE_SEPARATORS}]*[{PHONE_DIGITS}]){{7,15}}"
    rf"[{PHONE_SEPARATORS}]*[{WHITESPACE}]*$"
)


class NameFieldSchema(OpenApiSerializerFieldExtension):
    target_class = "patients.serializers.NameField"

    def map_serializer_field(self, auto_schema, direction):
        return {
            "type": "string",
            "pattern": NAME_PATTERN,
            "description": "1 to 200 characters once trimmed, stored composed (NFC), with a "
            "letter of any script (Unicode's L categories) and no control or invisible "
            "character (Unicode's Cc, Cf, Co, Cs, Cn, Zl and Zp), which the pattern states "
            "only in part.",
        }


class PhoneFieldSchema(OpenApiSerializerFieldExtension):
    target_class = "patients.serializers.PhoneField"

    def map_serializer_field(self, auto_schema, direction):
        return {
            "type": "string",
            "pattern": PHONE_PATTERN,
            "description": "Stored as an optional + and 7 to 15 ASCII digits: digits of any "
            "script become ASCII, and spaces, dashes, dots and parentheses are removed. The "
            "pattern lists the digits of the Basic Multilingual Plane; those beyond it count "
            "too.",
        }


class CanonicalEmailFieldSchema(OpenApiSerializerFieldExtension):
    target_class = "patients.serializers.CanonicalEmailField"

    def map_serializer_field(self, auto_schema, direction):
        return {
            "type": "string",
            "format": "email",
            "maxLength": 254,
            "description": "Stored in the one form mail is routed by: trimmed, NFKC-folded, "
            "the local part lowercased, the domain in its IDNA ASCII form.",
        }


NOT_FOUND = error_response("No patient with this id (or not a patient id).", key="message")
CONFLICT = error_response("Another patient has this email or phone.")
CREATE_CONFLICT = error_response(
    "Another patient has this email or phone, or a request with this `Idempotency-Key` is "
    "still running."
)
MODIFIED = error_response(
    "The `If-Match` names no current version: the patient changed since it was read. "
    "Nothing was written; the current `ETag` is in the answer."
)
KEY_REUSED = error_response("This `Idempotency-Key` was used with a different request body.")

PATIENT_WRITTEN = inline_serializer(
    "PatientWritten",
    {
        "message": serializers.CharField(),
        "patient_id": serializers.UUIDField(),
        "patient": PatientSerializer(),
    },
)
PATIENT_DELETED = inline_serializer("PatientDeleted", {"message": serializers.CharField()})

_ETAG = {"type": "string", "pattern": r'^"[0-9]+"$'}
ETAG = response_header("ETag", _ETAG, [200], 'The patient\'s version, for `If-Match`: `"3"`.')
WRITTEN_ETAG = response_header(
    "ETag", _ETAG, [200, 201, 412], "The patient's version after the write (on 412: now)."
)
LOCATION = response_header(
    "Location", {"type": "string", "format": "uri"}, [201], "The new patient's URL."
)
REPLAYED = response_header(
    "Idempotent-Replayed",
    {"type": "string", "enum": ["true"]},
    [201],
    "On the stored answer to a repeat with the same `Idempotency-Key`.",
    required=False,
)
TOTAL_COUNT = response_header(
    "X-Total-Count",
    {"type": "string", "pattern": "^[0-9]+$"},
    [200],
    "With `?count=true`: how many patients match.",
    required=False,
)
IF_MATCH = OpenApiParameter(
    "If-Match",
    str,
    OpenApiParameter.HEADER,
    description='Write only if the patient is at this version: its `ETag` (`"3"`), the weak '
    'form (`W/"3"`), a list, or `*`. Any other value matches no version (412). Without it '
    "the write is unconditional.",
)
IDEMPOTENCY_KEY = OpenApiParameter(
    "Idempotency-Key",
    {"type": "string", "pattern": r"^[\x21-\x7e]{1,255}$"},
    OpenApiParameter.HEADER,
    description="1 to 255 visible ASCII characters, new for each patient to create (a UUID): "
    "a repeat with the same key and body gets the first answer again (24 hours, per user).",
)

LIST_PARAMETERS = [
    query_parameter(
        "search",
        {"type": "string", "pattern": trimmed_text(200, blank=True)},
        "Matches the name, email or phone (a phone's separators ignored).",
    ),
    query_parameter("count", OpenApiTypes.BOOL, "`true` adds the `X-Total-Count` header."),
    *PAGE_PARAMETERS,
]

JOHN = {
    "id": "3ce2dd50-7764-42bf-847a-a84b3071eaeb",
    "name": "John Doe",
    "email": "john@example.com",
    "phone": "+15551234567",
    "preferred_channel": "sms",
    "sms_opt_out": False,
    "email_opt_out": False,
    "birth_date": None,
    "version": 1,
    "created_at": "2026-01-05T09:12:44.120391Z",
    "updated_at": "2026-01-05T09:12:44.120410Z",
}
CREATE_EXAMPLES = [
    OpenApiExample(
        "John Doe",
        value={"name": "John Doe", "email": "John@Example.com", "phone": "+1 (555) 123-4567"},
        request_only=True,
    ),
    OpenApiExample(
        "Created",
        value={
            "message": "Patient created successfully",
            "patient_id": JOHN["id"],
            "patient": JOHN,
        },
        response_only=True,
        status_codes=[201],
    ),
    OpenApiExample(
        "A missing field",
        value={
            "error": "Missing required field: phone",
            "errors": {"phone": ["Phone is required."]},
        },
        response_only=True,
        status_codes=[400],
    ),
    OpenApiExample(
        "A duplicate",
        value={"error": "Patient with this phone or email already exists"},
        response_only=True,
        status_codes=[409],
    ),
]
UPDATE_EXAMPLES = [
    OpenApiExample("A new phone", value={"phone": "555.987.6543"}, request_only=True),
    OpenApiExample(
        "Stale If-Match",
        value={"error": "Patient was modified by someone else"},
        response_only=True,
        status_codes=[412],
    ),
]
READ_EXAMPLES = [
    OpenApiExample("John Doe", value=JOHN, response_only=True, status_codes=[200]),
    OpenApiExample(
        "Unknown id",
        value={"message": "Patient not found"},
        response_only=True,
        status_codes=[404],
    ),
]

PATIENT_ID = OpenApiParameter(
    "id",
    OpenApiTypes.UUID,
    OpenApiParameter.PATH,
    description="The patient's id. Anything else is 404, as an unknown id is.",
)
