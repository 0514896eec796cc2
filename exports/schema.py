"""OpenAPI descriptions (drf-spectacular) of the bulk export: every status each operation can
answer, with its media type and headers, and the kick-off's parameters with the patterns
and values that exports.validators accepts."""

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, inline_serializer
from rest_framework import serializers

from exports.renderers import NDJSON
from exports.validators import INSTANT_PATTERN, OUTPUT_FORMATS, PREFER_PATTERN, TYPE_PATTERN

FHIR_JSON = "application/fhir+json"

_ISSUES = inline_serializer(
    "BulkExportIssue",
    {
        "severity": serializers.ChoiceField(["fatal", "error", "warning", "information"]),
        "code": serializers.CharField(),
        "diagnostics": serializers.CharField(required=False),
        "expression": serializers.ListField(child=serializers.CharField(), required=False),
    },
    many=True,
)
OUTCOME = inline_serializer(
    "BulkExportOutcome",
    {
        "resourceType": serializers.ChoiceField(["OperationOutcome"]),
        "issue": _ISSUES,
    },
)


class BulkExportFileSerializer(serializers.Serializer):
    """A file of the export, as the manifest lists it."""

    type = serializers.CharField(help_text="The resource type: Patient.")
    url = serializers.URLField(help_text="Download with the same Bearer token.")
    count = serializers.IntegerField(required=False, help_text="Resources in the file.")


MANIFEST = inline_serializer(
    "BulkExportManifest",
    {
        "transactionTime": serializers.DateTimeField(
            help_text="The instant the data was read as of: the next export's _since."
        ),
        "request": serializers.CharField(help_text="The kick-off's URL."),
        "requiresAccessToken": serializers.BooleanField(),
        "output": BulkExportFileSerializer(many=True),
        "error": BulkExportFileSerializer(many=True),
    },
)


def _outcome(description: str) -> OpenApiResponse:
    return OpenApiResponse(OUTCOME, description=description)


def _retry_after(*statuses: int) -> OpenApiParameter:
    return OpenApiParameter(
        "Retry-After",
        OpenApiTypes.INT,
        OpenApiParameter.HEADER,
        description="Seconds to wait before asking again.",
        response=list(statuses),
    )


# The refusals every bulk export URL can give.
ACCESS_ERRORS = {
    (401, FHIR_JSON): _outcome("No valid token."),
    (403, FHIR_JSON): _outcome("Lacks the permission exports.export_patients."),
    (429, FHIR_JSON): _outcome(
        "Over the rate limit; at the kick-off also: too many exports in progress."
    ),
}
NOT_FOUND = {
    (404, FHIR_JSON): _outcome("No such export of yours: unknown, cancelled or expired."),
}
NOT_ACCEPTABLE = {
    (406, FHIR_JSON): _outcome("An Accept header or _format that is not JSON."),
}

KICKOFF_PARAMETERS = [
    OpenApiParameter(
        "Prefer",
        {"type": "string", "pattern": PREFER_PATTERN},
        OpenApiParameter.HEADER,
        required=True,
        description="`respond-async`: the export runs in the background. With "
        "`handling=lenient` too, unsupported parameters are ignored (and named in the 202's "
        "OperationOutcome) rather than refused.",
    ),
    OpenApiParameter(
        "_outputFormat",
        str,
        enum=list(OUTPUT_FORMATS),
        description="The files' format; NDJSON, the default, is the only one.",
    ),
    OpenApiParameter(
        "_type",
        {"type": "string", "pattern": TYPE_PATTERN},
        description="Resource types, comma-separated: Patient is the only one.",
    ),
    OpenApiParameter(
        "_since",
        {"type": "string", "pattern": INSTANT_PATTERN},
        description="A FHIR instant (`2024-05-01T00:00:00Z`): only patients changed after it.",
    ),
    OpenApiParameter(
        "Content-Location",
        OpenApiTypes.URI,
        OpenApiParameter.HEADER,
        description="The export's status URL.",
        response=[202],
    ),
    _retry_after(429),
]
KICKOFF_RESPONSES = {
    (202, FHIR_JSON): _outcome("Accepted: poll the URL in Content-Location."),
    (400, FHIR_JSON): _outcome(
        "No `Prefer: respond-async`, a bad parameter value, or a parameter not supported "
        "(issue code `not-supported`) without `Prefer: handling=lenient`."
    ),
    **ACCESS_ERRORS,
    **NOT_ACCEPTABLE,
}

JOB_ID = OpenApiParameter("job_id", OpenApiTypes.UUID, OpenApiParameter.PATH)
STATUS_PARAMETERS = [
    JOB_ID,
    OpenApiParameter(
        "X-Progress",
        str,
        OpenApiParameter.HEADER,
        description='How far the export is: "in progress: 4,000 of 10,000 patients".',
        response=[202],
    ),
    OpenApiParameter(
        "Expires",
        str,
        OpenApiParameter.HEADER,
        description="When the files and this URL go (an HTTP date).",
        response=[200],
    ),
    _retry_after(202, 429),
]
STATUS_RESPONSES = {
    (200, "application/json"): OpenApiResponse(MANIFEST, description="Complete: the files."),
    (202, FHIR_JSON): _outcome("Queued or running; X-Progress says how far."),
    **ACCESS_ERRORS,
    **NOT_FOUND,
    **NOT_ACCEPTABLE,
    (500, FHIR_JSON): _outcome(
        "The export failed (the Bulk Data specification's error status): start a new one."
    ),
}
CANCEL_RESPONSES = {
    (202, FHIR_JSON): _outcome("Cancelled: the files are removed, the URL answers 404."),
    **ACCESS_ERRORS,
    **NOT_FOUND,
    **NOT_ACCEPTABLE,
}

CANCEL_PARAMETERS = [JOB_ID, _retry_after(429)]
FILE_PARAMETERS = [
    JOB_ID,
    OpenApiParameter("file_name", str, OpenApiParameter.PATH, enum=["Patient.ndjson"]),
    _retry_after(429),
]
FILE_RESPONSES = {
    (200, NDJSON): OpenApiResponse(
        {"type": "string", "format": "binary"},
        description="One FHIR R4 Patient resource (JSON) a line.",
    ),
    **ACCESS_ERRORS,
    **NOT_FOUND,
}
