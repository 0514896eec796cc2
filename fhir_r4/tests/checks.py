"""Helpers for the FHIR tests: requests in FHIR's JSON, and R4 (R4B) validation of what
comes back, never the fhir.resources package's default R5 models."""

import json

from fhir.resources.R4B.bundle import Bundle
from fhir.resources.R4B.capabilitystatement import CapabilityStatement
from fhir.resources.R4B.operationoutcome import OperationOutcome
from fhir.resources.R4B.patient import Patient as FhirPatient

FHIR_JSON = "application/fhir+json"

R4_MODELS = {
    "Patient": FhirPatient,
    "Bundle": Bundle,
    "OperationOutcome": OperationOutcome,
    "CapabilityStatement": CapabilityStatement,
}


def r4(response, resource_type: str) -> dict:
    """The response's body, checked to be FHIR JSON and a valid R4 resource of this type."""
    assert response["Content-Type"] == FHIR_JSON, response["Content-Type"]
    body = json.loads(response.content)
    assert body["resourceType"] == resource_type, body
    R4_MODELS[resource_type].model_validate(body)
    return body


def outcome(response, status: int, code: str | None = None) -> dict:
    """The response, checked to be an R4 OperationOutcome with this status (and, if given,
    this issue code on its first issue)."""
    assert response.status_code == status, (response.status_code, response.content)
    body = r4(response, "OperationOutcome")
    if code is not None:
        assert body["issue"][0]["code"] == code, body
    return body


def patient_body(**overrides) -> dict:
    """A Patient resource for Ann, with overrides (None removes an element)."""
    body = {
        "resourceType": "Patient",
        "name": [{"text": "Ann Marlowe"}],
        "telecom": [
            {"system": "phone", "value": "+15550101234", "rank": 1},
            {"system": "email", "value": "ann@example.com", "rank": 2},
        ],
        "birthDate": "1980-04-02",
    }
    body.update(overrides)
    return {key: value for key, value in body.items() if value is not None}


def send(client, method: str, path: str, body=None, **headers):
    """A request with a FHIR JSON body (a dict, or raw text)."""
    data = body if isinstance(body, str | bytes) or body is None else json.dumps(body)
    return getattr(client, method)(path, data=data, content_type=FHIR_JSON, **headers)
