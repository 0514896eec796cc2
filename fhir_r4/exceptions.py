"""The refusals the FHIR face raises itself, each with FHIR's issue code (outcomes.py turns
them, and every other error, into OperationOutcome resources)."""

from rest_framework import status

from api.exceptions import ApplicationError


class FhirError(ApplicationError):
    """A refusal with its HTTP status, FHIR issue code and, optionally, several issues
    (dicts with `code`, `diagnostics` and maybe `expression`) in place of the one."""

    def __init__(
        self,
        diagnostics: str,
        *,
        status_code: int = status.HTTP_400_BAD_REQUEST,
        code: str = "invalid",
        issues: list[dict] | None = None,
        headers: dict[str, str] | None = None,
    ):
        super().__init__(diagnostics, headers=headers)
        self.status_code = status_code
        self.code = code
        self.issues = issues or [{"code": code, "diagnostics": diagnostics}]


class NotAPatient(FhirError):
    """A body that is not a valid R4 Patient resource (bad JSON shape, wrong resourceType,
    wrong element types): a 400."""

    def __init__(self, diagnostics: str, *, code: str = "structure", issues=None):
        super().__init__(diagnostics, code=code, issues=issues)


class PatientRulesBroken(FhirError):
    """A valid Patient resource that our rules refuse (a missing phone, a bad email, a
    birth date in the future): a 422."""

    def __init__(self, diagnostics: str, *, code: str = "business-rule", issues=None):
        super().__init__(
            diagnostics,
            status_code=status.HTTP_422_UNPROCESSABLE_ENTITY,
            code=code,
            issues=issues,
        )


class ResourceGone(FhirError):
    """A deleted patient, a deleted version, or an expired search: a 410."""

    def __init__(self, diagnostics: str, *, code: str = "deleted"):
        super().__init__(diagnostics, status_code=status.HTTP_410_GONE, code=code)
