"""One JSON error shape for the whole API.

Clients of the original read `"error"` for bad input and conflicts and `"message"` for 401, 403
and 404, so every error response carries one of the two; validation errors also carry the
per-field messages under `"errors"`.
"""

from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.core.exceptions import ValidationError as DjangoValidationError
from django.http import Http404
from rest_framework import exceptions, status
from rest_framework.response import Response
from rest_framework.serializers import as_serializer_error
from rest_framework.settings import api_settings
from rest_framework.utils.serializer_helpers import ReturnDict
from rest_framework.views import exception_handler

MISSING_CODES = {"required", "blank", "null"}


class ApplicationError(Exception):
    """A business rule said no; services raise subclasses, the API answers with their status."""

    status_code = status.HTTP_400_BAD_REQUEST
    message = "Request could not be processed"

    def __init__(self, message: str | None = None, *, headers: dict[str, str] | None = None):
        super().__init__(message or self.message)
        # Response headers that go with the refusal (a 412's current ETag).
        self.headers = headers or {}


class ConflictError(ApplicationError):
    status_code = status.HTTP_409_CONFLICT


class NotFoundError(ApplicationError):
    status_code = status.HTTP_404_NOT_FOUND


class PreconditionFailed(ApplicationError):
    status_code = status.HTTP_412_PRECONDITION_FAILED


def validated(serializer) -> dict:
    """The serializer's validated data, or a ValidationError that keeps the serializer, so the
    browsable API can show its form again with what was typed and each field's errors."""
    if not serializer.is_valid():
        exc = exceptions.ValidationError(serializer.errors)
        exc.serializer = serializer
        raise exc
    return serializer.validated_data


def validation_summary(detail, codes) -> str:
    """The line for `"error"`: the first missing field (in declaration order), else the first
    message."""
    if isinstance(detail, dict):
        for field, field_codes in codes.items():
            if field == api_settings.NON_FIELD_ERRORS_KEY:
                continue
            if isinstance(field_codes, list) and field_codes and field_codes[0] in MISSING_CODES:
                return f"Missing required field: {field}"
        for value in detail.values():
            return validation_summary(value, None)
    if isinstance(detail, list) and detail:
        return validation_summary(detail[0], None)
    return str(detail) or "Invalid input"


# Set on a request by the API's throttles (api.throttling) once they have counted it.
THROTTLES_CHECKED = "throttles_checked"


def _throttled_instead(exc, context):
    """A Throttled in place of a 401 or 403 that DRF answered before it checked the rate
    limits (it authenticates and checks permissions first), if the request is over one; else
    the refusal. Without it a client without a token, or with a wrong one, or a user without
    the permission, could send requests (each of them audited) at any rate."""
    request, view = context.get("request"), context.get("view")
    refusals = (
        exceptions.NotAuthenticated,
        exceptions.AuthenticationFailed,
        exceptions.PermissionDenied,
    )
    if (
        not isinstance(exc, refusals)
        or request is None
        or view is None
        or getattr(request, THROTTLES_CHECKED, False)
    ):
        return exc
    try:
        view.check_throttles(request)
    except exceptions.Throttled as throttled:
        return throttled
    return exc


def api_exception_handler(exc, context):
    """DRF's handler (headers, rollback) with the API's body shape in place of `{"detail"}`."""
    if isinstance(exc, ApplicationError):
        # 404s say "message", as the original's did; other refusals say "error".
        key = "message" if isinstance(exc, NotFoundError) else "error"
        return Response({key: str(exc)}, status=exc.status_code, headers=exc.headers)
    if isinstance(exc, DjangoValidationError):
        exc = exceptions.ValidationError(as_serializer_error(exc))
    elif isinstance(exc, Http404):
        exc = exceptions.NotFound()
    elif isinstance(exc, DjangoPermissionDenied):
        exc = exceptions.PermissionDenied()
    exc = _throttled_instead(exc, context)

    response = exception_handler(exc, context)
    if response is None:
        return None
    if isinstance(exc, exceptions.ValidationError):
        # A ReturnDict renders as the same JSON; the browsable API reads its serializer.
        response.data = ReturnDict(
            {"error": validation_summary(exc.detail, exc.get_codes()), "errors": exc.detail},
            serializer=getattr(exc, "serializer", None),
        )
    elif response.status_code == status.HTTP_401_UNAUTHORIZED:
        response.data = {"message": "Unauthorized"}
    elif response.status_code == status.HTTP_403_FORBIDDEN:
        response.data = {"message": "Forbidden"}
    elif response.status_code == status.HTTP_404_NOT_FOUND:
        response.data = {"message": str(exc.detail)}
    elif response.status_code == status.HTTP_429_TOO_MANY_REQUESTS:
        response.data = {"message": "Too many requests", "error": str(exc.detail)}
    else:
        response.data = {"error": str(exc.detail)}
    return response
