"""OpenAPI descriptions (drf-spectacular) of what the patient views answer."""

from drf_spectacular.utils import OpenApiParameter, inline_serializer
from rest_framework import serializers

from api.schema import ACCESS_ERRORS, VALIDATION_ERROR, error_response
from patients.serializers import PatientSerializer

NOT_FOUND = error_response("NotFound", "Patient not found.", key="message")
CONFLICT = error_response("Conflict", "Email or phone already used.")
WRITE_ERRORS = {**ACCESS_ERRORS, 400: VALIDATION_ERROR, 409: CONFLICT}

PATIENT_WRITTEN = inline_serializer(
    "PatientWritten",
    {
        "message": serializers.CharField(),
        "patient_id": serializers.UUIDField(),
        "patient": PatientSerializer(),
    },
)
PATIENT_DELETED = inline_serializer("PatientDeleted", {"message": serializers.CharField()})

LIST_PARAMETERS = [
    OpenApiParameter("search", str, description="Matches name, email or phone."),
    OpenApiParameter("limit", int, description="Page size: default 50, at most 500."),
    OpenApiParameter("cursor", str, description='From the `Link: <...>; rel="next"` header.'),
    OpenApiParameter("count", bool, description="Adds an `X-Total-Count` header."),
]
