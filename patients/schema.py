"""OpenAPI descriptions (drf-spectacular) of what the views answer, kept out of the views."""

from drf_spectacular.extensions import OpenApiAuthenticationExtension
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, inline_serializer
from rest_framework import serializers

from patients.serializers import PatientSerializer


class BearerTokenScheme(OpenApiAuthenticationExtension):
    target_class = "patients.authentication.BearerTokenAuthentication"
    name = "bearerAuth"

    def get_security_definition(self, auto_schema):
        return {"type": "http", "scheme": "bearer"}


def _error(name: str, key: str = "error"):
    return inline_serializer(name, {key: serializers.CharField()})


VALIDATION_ERROR = OpenApiResponse(
    inline_serializer(
        "ValidationError",
        {"error": serializers.CharField(), "errors": serializers.DictField()},
    ),
    description='The first problem in "error"; every field\'s messages under "errors".',
)
UNAUTHORIZED = OpenApiResponse(_error("Unauthorized", "message"), description="No valid token.")
FORBIDDEN = OpenApiResponse(_error("Forbidden", "message"), description="Lacks the permission.")
NOT_FOUND = OpenApiResponse(_error("NotFound", "message"), description="Patient not found.")
CONFLICT = OpenApiResponse(_error("Conflict"), description="Email or phone already used.")

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
TOKEN = inline_serializer(
    "Token", {"token": serializers.CharField(), "expiry": serializers.DateTimeField()}
)
