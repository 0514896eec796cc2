"""OpenAPI (drf-spectacular): the error bodies every endpoint shares, and the schema hooks."""

from drf_spectacular.utils import OpenApiResponse, inline_serializer
from rest_framework import serializers


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
ACCESS_ERRORS = {401: UNAUTHORIZED, 403: FORBIDDEN}


def error_response(name: str, description: str, key: str = "error") -> OpenApiResponse:
    """A documented error answer whose body is `{key: "<text>"}`."""
    return OpenApiResponse(_error(name, key), description=description)


def paths_without_trailing_slash(result, generator, request, public):
    """Show paths as the original's clients call them (`/patients/{id}`); both forms work."""
    result["paths"] = {
        (path.rstrip("/") or "/"): operations for path, operations in result["paths"].items()
    }
    return result
