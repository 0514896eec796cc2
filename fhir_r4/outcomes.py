"""Errors as FHIR R4 OperationOutcome resources: every refusal under /fhir, whoever raised
it (DRF's authentication, permissions, throttles and parsers, Django, the patients'
services, this app), keeps its HTTP status and headers and gets an OperationOutcome body
with FHIR's issue code (http://hl7.org/fhir/R4/valueset-issue-type.html)."""

from django.core.exceptions import ValidationError as DjangoValidationError
from rest_framework import exceptions, status
from rest_framework.response import Response
from rest_framework.serializers import as_serializer_error
from rest_framework.settings import api_settings

from api.exceptions import MISSING_CODES, api_exception_handler
from fhir_r4.exceptions import FhirError
from patients.services import PatientConflict

# The issue code of each status, when nothing more precise is known.
_CODES = {
    400: "invalid",
    401: "login",
    403: "forbidden",
    404: "not-found",
    405: "not-supported",
    406: "not-supported",
    409: "conflict",
    410: "deleted",
    412: "conflict",
    413: "too-costly",
    415: "not-supported",
    422: "business-rule",
    429: "throttled",
}


# The statuses only the request guards and the web server's front answer (api.errorshapes).
_FRONT_CODES = {408: "timeout", 411: "structure", 413: "too-long", 503: "transient"}


def front_error_outcome(status: int, message: str) -> dict:
    """The OperationOutcome of an error answered before any view runs."""
    code = _FRONT_CODES.get(status) or _CODES.get(status, "exception")
    return operation_outcome(code=code, diagnostics=message)


def operation_outcome(*, code: str, diagnostics: str, severity: str = "error") -> dict:
    """An OperationOutcome with one issue."""
    return outcome_of_issues([{"severity": severity, "code": code, "diagnostics": diagnostics}])


def outcome_of_issues(issues: list[dict]) -> dict:
    """An OperationOutcome with these issues (each a dict with `code`, and `severity`
    (default error), `diagnostics`, `expression` as known)."""
    return {
        "resourceType": "OperationOutcome",
        "issue": [{"severity": "error", **issue} for issue in issues],
    }


def weak_etag(value: str) -> str:
    """FHIR's form of an ETag: weak, `W/"3"`."""
    return value if value.startswith("W/") else f"W/{value}"


def _validation_issues(detail, path: str = "") -> list[dict]:
    """DRF's nested error detail as one issue per message, named after its field."""
    if isinstance(detail, dict):
        issues = []
        for field, value in detail.items():
            name = "" if field == api_settings.NON_FIELD_ERRORS_KEY else str(field)
            issues += _validation_issues(value, f"{path}.{name}" if path and name else name)
        return issues
    if isinstance(detail, list):
        return [issue for item in detail for issue in _validation_issues(item, path)]
    code = "required" if getattr(detail, "code", None) in MISSING_CODES else "invalid"
    return [{"code": code, "diagnostics": f"{path}: {detail}" if path else str(detail)}]


def _text(data) -> str:
    if isinstance(data, dict):
        for key in ("error", "message", "detail"):
            if isinstance(data.get(key), str):
                return data[key]
    return "Request could not be processed"


def fhir_exception_handler(exc, context):
    """The project's handler (its statuses, headers, throttling of refusals and rollback),
    with an OperationOutcome for a body. A duplicate email or phone, a 409 in the REST API,
    is FHIR's 422 with the issue code `duplicate`."""
    if isinstance(exc, DjangoValidationError):
        # Only the services' own checks get here (input was validated before): a rule.
        issues = _validation_issues(as_serializer_error(exc))
        exc = FhirError(
            "Patient breaks a rule for patient details",
            status_code=status.HTTP_422_UNPROCESSABLE_ENTITY,
            code="business-rule",
            issues=[{**issue, "code": "business-rule"} for issue in issues],
        )
    response = api_exception_handler(exc, context)
    if response is None:
        return None
    if isinstance(exc, PatientConflict):
        response.status_code = status.HTTP_422_UNPROCESSABLE_ENTITY
        response.data = operation_outcome(code="duplicate", diagnostics=str(exc))
    elif isinstance(exc, FhirError) and response.status_code == exc.status_code:
        response.data = outcome_of_issues(exc.issues)
    elif isinstance(exc, exceptions.ValidationError):
        issues = _validation_issues(exc.detail) or [{"code": "invalid"}]
        response.data = outcome_of_issues(issues)
    else:
        code = _CODES.get(response.status_code, "exception")
        # DRF's own words where it has them ("Invalid token.", "Method \"PATCH\" not
        # allowed."), unless another refusal (a 429 for a 401) took the exception's place.
        if isinstance(exc, exceptions.APIException) and exc.status_code == response.status_code:
            diagnostics = str(exc.detail)
        else:
            diagnostics = _text(response.data)
        response.data = operation_outcome(code=code, diagnostics=diagnostics)
    if "ETag" in response:
        response["ETag"] = weak_etag(response["ETag"])
    return response


def outcome_response(exc: FhirError) -> Response:
    """The response a FhirError gets, for code that answers one without raising it."""
    return Response(outcome_of_issues(exc.issues), status=exc.status_code, headers=exc.headers)
