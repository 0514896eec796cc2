"""OpenAPI (drf-spectacular) descriptions of the FHIR face: its resources as schema
components (written out here: they are FHIR's shapes, not serializers'), its parameters,
headers and answers. A fuzzer checks every answer against these, so they say what the
views answer, errors included."""

from drf_spectacular.extensions import OpenApiSerializerExtension
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse
from rest_framework import serializers

from fhir_r4.selectors import MAX_VALUES, MAX_VALUES_PER_PARAMETER

_ID_PATTERN = r"^[A-Za-z0-9\-.]{1,64}$"
# FHIR's string: at least one character, not only whitespace.
# R4's string holds a character of `[ \r\n\t\S]`: one that is not Unicode White_Space, or
# is a space, CR, LF or tab. Spelled out, as api.schema's patterns are, so that Python's regex
# (schemathesis generating) and Rust's (fhir.resources' pydantic validating) read it alike.
_OTHER_WHITESPACE = r"\x0b\x0c\x85\xa0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000"
_FHIR_STRING = {"type": "string", "minLength": 1, "pattern": f"[^{_OTHER_WHITESPACE}]"}
# Years 0001 to 9999, as FHIR's date (and Python's) has them.
_YEAR = r"(000[1-9]|00[1-9]\d|0[1-9]\d\d|[1-9]\d{3})"
_DATE = r"-(0[1-9]|1[0-2])-(0[1-9]|[12]\d|3[01])"
_DATE_PATTERN = rf"^{_YEAR}{_DATE}$"


def _fixed(value: str) -> dict:
    """A string that is always `value`. A pattern, not a one-value enum: drf-spectacular's
    enum hook would make a shared component of every top-level enum named alike."""
    return {"type": "string", "pattern": f"^{value}$"}


class FhirSchema(serializers.Serializer):
    """A FHIR resource's OpenAPI schema as a component: subclasses set `schema_name` and
    `schema`. Never used to (de)serialize; `_FhirSchemaExtension` maps it."""

    schema_name = ""
    schema: dict = {}


class _FhirSchemaExtension(OpenApiSerializerExtension):
    target_class = "fhir_r4.schema.FhirSchema"
    match_subclasses = True

    def get_name(self, auto_schema, direction):
        return self.target.schema_name

    def map_serializer(self, auto_schema, direction):
        return self.target.schema


_HUMAN_NAME = {
    "type": "object",
    "properties": {
        "use": {
            "type": "string",
            "enum": ["usual", "official", "temp", "nickname", "anonymous", "old", "maiden"],
        },
        "text": _FHIR_STRING,
        "family": _FHIR_STRING,
        "given": {"type": "array", "items": _FHIR_STRING, "minItems": 1},
    },
}
_CONTACT_POINT = {
    "type": "object",
    "properties": {
        "system": {
            "type": "string",
            "enum": ["phone", "fax", "email", "pager", "url", "sms", "other"],
        },
        "value": _FHIR_STRING,
        "use": {"type": "string", "enum": ["home", "work", "temp", "old", "mobile"]},
        "rank": {"type": "integer", "minimum": 1, "maximum": 2147483647},
    },
}
_IDENTIFIER = {
    "type": "object",
    "properties": {"system": _FHIR_STRING, "value": _FHIR_STRING},
}


def _closed(schema: dict) -> dict:
    """The schema with no properties but its own, at every depth (FHIR refuses unknown
    elements)."""
    if schema.get("type") == "array":
        return {**schema, "items": _closed(schema["items"])}
    if schema.get("type") != "object":
        return schema
    properties = {name: _closed(value) for name, value in schema.get("properties", {}).items()}
    return {**schema, "properties": properties, "additionalProperties": False}


class PatientSchema(FhirSchema):
    schema_name = "FhirPatient"
    schema = {
        "type": "object",
        "description": "A FHIR R4 Patient resource, as this server shows it.",
        "required": ["resourceType", "id", "meta", "identifier", "name", "telecom"],
        "properties": {
            "resourceType": _fixed("Patient"),
            "id": {"type": "string", "format": "uuid"},
            "meta": {
                "type": "object",
                "required": ["versionId", "lastUpdated"],
                "properties": {
                    "versionId": {"type": "string", "pattern": r"^[1-9]\d*$"},
                    "lastUpdated": {"type": "string", "format": "date-time"},
                },
            },
            "identifier": {"type": "array", "items": _IDENTIFIER},
            "name": {"type": "array", "items": _HUMAN_NAME},
            "telecom": {"type": "array", "items": _CONTACT_POINT},
            "birthDate": {"type": "string", "format": "date"},
        },
    }


class PatientInputSchema(FhirSchema):
    schema_name = "FhirPatientInput"
    schema = {
        "type": "object",
        "description": (
            "A FHIR R4 Patient resource. Read: name (the first not `old`: text, else given "
            "and family), telecom (one phone, one email; the lower rank is the preferred "
            "channel), birthDate (a full date). id: ignored on create; on update, the "
            "URL's id. The server also accepts, and does not keep, the R4 Patient elements "
            "this schema leaves out (gender, address, contained R4 resources ...), but not "
            "a modifierExtension anywhere (400 `not-supported`)."
        ),
        "required": ["resourceType"],
        "properties": {
            "resourceType": _fixed("Patient"),
            "id": {"type": "string", "pattern": _ID_PATTERN},
            "meta": {
                "type": "object",
                "description": "Ignored: the server assigns both (R4's create and update).",
                "properties": {
                    "versionId": {"description": "Ignored."},
                    "lastUpdated": {"description": "Ignored."},
                },
            },
            "name": {"type": "array", "items": _HUMAN_NAME, "minItems": 1},
            "telecom": {"type": "array", "items": _CONTACT_POINT, "minItems": 1},
            "birthDate": {"type": "string", "pattern": _DATE_PATTERN},
        },
    }
    schema = _closed(schema)


class OperationOutcomeSchema(FhirSchema):
    schema_name = "FhirOperationOutcome"
    schema = {
        "type": "object",
        "description": "What went wrong: FHIR R4's OperationOutcome.",
        "required": ["resourceType", "issue"],
        "properties": {
            "resourceType": _fixed("OperationOutcome"),
            "issue": {
                "type": "array",
                "minItems": 1,
                "items": {
                    "type": "object",
                    "required": ["severity", "code"],
                    "properties": {
                        "severity": {
                            "type": "string",
                            "enum": ["fatal", "error", "warning", "information"],
                        },
                        "code": {"type": "string"},
                        "diagnostics": {"type": "string"},
                        "expression": {"type": "array", "items": {"type": "string"}},
                    },
                },
            },
        },
    }


_BUNDLE_LINKS = {
    "type": "array",
    "items": {
        "type": "object",
        "required": ["relation", "url"],
        "properties": {
            "relation": {"type": "string", "enum": ["self", "next", "previous"]},
            "url": {"type": "string", "format": "uri"},
        },
    },
}
_PATIENT_REF = {"$ref": "#/components/schemas/FhirPatient"}


class SearchsetSchema(FhirSchema):
    schema_name = "FhirSearchsetBundle"
    schema = {
        "type": "object",
        "description": "A page of search results: a Bundle of type searchset.",
        "required": ["resourceType", "type", "link"],
        "properties": {
            "resourceType": _fixed("Bundle"),
            "type": _fixed("searchset"),
            "total": {"type": "integer", "minimum": 0},
            "link": _BUNDLE_LINKS,
            "entry": {
                "type": "array",
                "items": {
                    "type": "object",
                    "required": ["fullUrl", "resource", "search"],
                    "properties": {
                        "fullUrl": {"type": "string", "format": "uri"},
                        "resource": _PATIENT_REF,
                        "search": {
                            "type": "object",
                            "properties": {"mode": {"type": "string", "enum": ["match"]}},
                        },
                    },
                },
            },
        },
    }


class HistorySchema(FhirSchema):
    schema_name = "FhirHistoryBundle"
    schema = {
        "type": "object",
        "description": (
            "A page of a patient's versions, newest first: a Bundle of type history. A "
            "deletion's entry, and a version whose details were erased after the retention "
            "period, has no resource."
        ),
        "required": ["resourceType", "type", "link"],
        "properties": {
            "resourceType": _fixed("Bundle"),
            "type": _fixed("history"),
            "link": _BUNDLE_LINKS,
            "entry": {
                "type": "array",
                "items": {
                    "type": "object",
                    "required": ["fullUrl", "request", "response"],
                    "properties": {
                        "fullUrl": {"type": "string", "format": "uri"},
                        "resource": _PATIENT_REF,
                        "request": {
                            "type": "object",
                            "required": ["method", "url"],
                            "properties": {
                                "method": {"type": "string", "enum": ["POST", "PUT", "DELETE"]},
                                "url": {"type": "string"},
                            },
                        },
                        "response": {
                            "type": "object",
                            "required": ["status"],
                            "properties": {
                                "status": {"type": "string"},
                                "etag": {"type": "string"},
                                "lastModified": {"type": "string", "format": "date-time"},
                            },
                        },
                    },
                },
            },
        },
    }


class CapabilityStatementSchema(FhirSchema):
    schema_name = "FhirCapabilityStatement"
    schema = {
        "type": "object",
        "description": "What this server does: FHIR R4's CapabilityStatement.",
        "required": ["resourceType", "status", "date", "kind", "fhirVersion", "format"],
        "properties": {
            "resourceType": _fixed("CapabilityStatement"),
            "status": _fixed("active"),
            "kind": _fixed("instance"),
            "fhirVersion": _fixed(r"4\.0\.1"),
            "date": {"type": "string"},
            "format": {"type": "array", "items": {"type": "string"}},
            "rest": {"type": "array", "items": {"type": "object"}},
        },
    }


def outcome(description: str) -> OpenApiResponse:
    return OpenApiResponse(OperationOutcomeSchema, description=description)


# The refusals every FHIR operation under authentication can answer.
ACCESS_ERRORS = {
    401: outcome("No valid token (issue code `login`)."),
    403: outcome("The user lacks the permission (issue code `forbidden`)."),
    406: outcome("An Accept or `_format` other than FHIR JSON (issue code `not-supported`)."),
    429: outcome("Over a rate limit; see Retry-After (issue code `throttled`)."),
}
NOT_FOUND = outcome("No patient has this id (issue code `not-found`).")
GONE = outcome("The patient was deleted (issue code `deleted`).")
BAD_REQUEST = outcome(
    "A body that is not a valid R4 Patient, or bad search parameters or cursor "
    "(issue codes `structure`, `code-invalid`, `invalid`, `not-supported`: a "
    "modifierExtension, an unknown search modifier), or a search with more than "
    f"{MAX_VALUES_PER_PARAMETER} values in a parameter or {MAX_VALUES} in all, "
    "comma-separated alternatives each counted (`too-costly`)."
)
UNPROCESSABLE = outcome(
    "A valid Patient that our rules refuse: a missing or invalid name, phone, email or "
    "birth date (issue codes `required`, `value`), a second phone or email "
    "(`business-rule`), an email or phone another patient has (`duplicate`), an "
    "Idempotency-Key reused with another body (`business-rule`)."
)
PRECONDITION_FAILED = outcome(
    "If-Match names a version that is not the current one; the ETag header has the current "
    "(issue code `conflict`)."
)
UNSUPPORTED_MEDIA_TYPE = outcome("A body not in FHIR JSON (issue code `not-supported`).")
PUT_NOT_ALLOWED = outcome(
    "No patient has this id: an update does not create (updateCreate is false; issue code "
    "`not-supported`)."
)

PATIENT = OpenApiResponse(PatientSchema, description="The patient, as a FHIR R4 Patient.")


def _header(name: str, description: str, responses, **kwargs) -> OpenApiParameter:
    return OpenApiParameter(
        name,
        OpenApiTypes.STR,
        OpenApiParameter.HEADER,
        description=description,
        response=responses,
        **kwargs,
    )


def etag_headers(*statuses: int) -> list[OpenApiParameter]:
    """The ETag and Last-Modified headers of a patient's answer."""
    return [
        _header("ETag", 'The version, as FHIR\'s weak ETag: `W/"3"`.', list(statuses)),
        _header("Last-Modified", "When the version was made (an HTTP date).", list(statuses)),
    ]


LOCATION = _header(
    "Location", "The new patient's first version: /fhir/Patient/<id>/_history/1.", [201]
)
IF_MATCH = OpenApiParameter(
    "If-Match",
    OpenApiTypes.STR,
    OpenApiParameter.HEADER,
    description='Update only the version named (`W/"3"` or `"3"`); 412 if it is not current.',
)
IDEMPOTENCY_KEY = OpenApiParameter(
    "Idempotency-Key",
    OpenApiTypes.STR,
    OpenApiParameter.HEADER,
    description=(
        "1 to 255 visible ASCII characters: a retry with the same key and body gets the first "
        "answer again instead of creating a second patient."
    ),
    pattern=r"^[\x21-\x7e]{1,255}$",
)
PREFER = OpenApiParameter(
    "Prefer",
    OpenApiTypes.STR,
    OpenApiParameter.HEADER,
    description="`handling=strict` refuses unknown search parameters (400); else ignored.",
)
FORMAT = OpenApiParameter(
    "_format",
    OpenApiTypes.STR,
    description="json (or a JSON media type); anything else is a 406.",
    enum=["json", "application/fhir+json", "application/json"],
)
COUNT = OpenApiParameter(
    "_count",
    {"type": "integer", "minimum": 0, "maximum": 999999999},
    description="Page size: 50 by default, at most 500 (more is 500). 0: the total only.",
)
CURSOR = OpenApiParameter("cursor", OpenApiTypes.STR, description="From a `next` link.")

# birthdate: an optional prefix and a year, year-month or date; values joined by commas.
_BIRTHDATE_VALUE = (
    rf"(eq|ne|lt|le|gt|ge)?{_YEAR}"
    r"(-(0[1-9]|1[0-2])(-(0[1-9]|[12]\d|3[01]))?)?"
)
# A value (commas and all) is at most 256 characters.
# NUL is refused (400): no stored value holds one, and PostgreSQL refuses it in text.
_VALUE = {"type": "string", "maxLength": 256, "pattern": r"^[^\x00]*$"}
SEARCH_PARAMETERS = [
    OpenApiParameter("name", _VALUE, description="Any part of the name starts with it."),
    OpenApiParameter("name:contains", _VALUE, description="The name contains it."),
    OpenApiParameter("name:exact", _VALUE, description="The whole name, as stored."),
    OpenApiParameter("email", _VALUE, description="The email address."),
    OpenApiParameter("phone", _VALUE, description="The phone number."),
    OpenApiParameter(
        "birthdate",
        OpenApiTypes.STR,
        description="YYYY, YYYY-MM or YYYY-MM-DD, with a prefix eq (default), ne, lt, le, gt, ge.",
        pattern=f"^{_BIRTHDATE_VALUE}(,{_BIRTHDATE_VALUE})*$",
    ),
    OpenApiParameter("_id", _VALUE, description="The patient's id, exactly."),
    OpenApiParameter(
        "identifier",
        _VALUE,
        description="`urn:uuid:<id>`, or with its system: `urn:ietf:rfc:3986|urn:uuid:<id>`.",
    ),
    COUNT,
]
