"""Every error under /fhir is an OperationOutcome, whatever raised it."""

import uuid

import pytest

from fhir_r4.tests.checks import outcome

pytestmark = pytest.mark.django_db


def test_an_unknown_fhir_path_is_a_404_operation_outcome(carol):
    outcome(carol.get("/fhir/Observation"), 404, "not-found")
    outcome(carol.post("/fhir/Observation/1/_history"), 404, "not-found")


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("delete", "/fhir/Patient"),
        ("patch", f"/fhir/Patient/{uuid.uuid4()}"),
        ("options", "/fhir/Patient"),
        ("post", "/fhir/metadata"),
        ("get", "/fhir/Patient/_search"),
    ],
)
def test_a_method_an_endpoint_does_not_answer_is_405(alice, method, path):
    response = getattr(alice, method)(path)

    outcome(response, 405, "not-supported")
    assert response["Allow"]


def test_over_the_rate_limit_is_429_throttled_with_retry_after(carol, settings):
    settings.API_RATE_USER = "2/min"

    for _ in range(2):
        carol.get("/fhir/Patient")
    response = carol.get("/fhir/Patient")

    outcome(response, 429, "throttled")
    assert int(response["Retry-After"]) > 0


def test_a_refusal_over_the_rate_limit_is_429_too(anonymous, settings):
    settings.API_RATE_ANON = "1/min"

    outcome(anonymous.get("/fhir/Patient"), 401, "login")
    outcome(anonymous.get("/fhir/Patient"), 429, "throttled")


def test_a_body_nested_too_deeply_is_400_not_500(bob):
    body = '{"a":' * 100_000 + "1" + "}" * 100_000

    response = bob.post("/fhir/Patient", data=body, content_type="application/fhir+json")

    outcome(response, 400)


def test_the_request_guards_answer_an_operation_outcome_under_fhir(alice, settings):
    settings.MAX_REQUEST_BODY_BYTES = 100

    nul = alice.get("/fhir/Patient", {"name": "Ann\x00"})
    too_large = alice.post(
        "/fhir/Patient", "{" + " " * 200 + "}", content_type="application/fhir+json"
    )
    chunked = alice.post(
        "/fhir/Patient", "", content_type="application/fhir+json", HTTP_TRANSFER_ENCODING="chunked"
    )

    assert outcome(nul, 400, "invalid")["issue"][0]["diagnostics"].startswith("NUL")
    assert nul["Content-Type"] == "application/fhir+json"
    outcome(too_large, 413, "too-long")
    outcome(chunked, 411, "structure")


def test_the_request_guards_keep_the_apis_own_error_outside_fhir(alice):
    response = alice.get("/patients", {"search": "Ann\x00"})

    assert response.status_code == 400
    assert response.json() == {"error": "NUL characters are not allowed in URLs"}


@pytest.mark.parametrize("path", ["/fhir/Patient", "/fhir/metadata", "/fhir/Patient/_search"])
def test_allow_lists_only_the_methods_answered_not_options(alice, path):
    response = alice.delete(path)

    allowed = {method.strip() for method in response["Allow"].split(",")}
    assert "OPTIONS" not in allowed
    assert allowed & {"GET", "POST"}
