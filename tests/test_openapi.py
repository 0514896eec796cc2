"""The OpenAPI document (`/api/schema`): valid OpenAPI 3, generated without a warning, its
examples valid against their own schemas, the statuses and headers every operation shares, the
patterns of the patient fields the same rules as the service's, and the docs pages served from
the service itself. (tests/test_openapi_fuzz.py checks it against the running service.)"""

import io
import random
import re
import unicodedata
from contextlib import redirect_stderr

import jsonschema
import pytest
from django.core.exceptions import ValidationError
from django.core.management import call_command
from drf_spectacular.validation import validate_schema
from rest_framework.exceptions import ValidationError as DRFValidationError
from rest_framework.test import APIClient

from api.schema import WHITESPACE
from patients.schema import NAME_HIDDEN, NAME_PATTERN, PHONE_DIGITS, PHONE_PATTERN
from patients.serializers import NameField, PhoneField

pytestmark = pytest.mark.django_db

METHODS = {"get", "put", "patch", "post", "delete"}


@pytest.fixture(scope="module")
def document(django_db_blocker) -> dict:
    with django_db_blocker.unblock():
        response = APIClient().get("/api/schema/", HTTP_ACCEPT="application/vnd.oai.openapi+json")
    assert response.status_code == 200
    return response.json()


def _operations(document):
    for path, item in document["paths"].items():
        for method, operation in item.items():
            if method in METHODS:
                yield f"{method.upper()} {path}", operation


def test_the_served_document_is_valid_openapi_3(document):
    validate_schema(document)  # raises on anything OpenAPI 3.0's own schema refuses
    assert document["openapi"].startswith("3.0")


def test_the_document_generates_without_a_warning_or_an_error():
    errors = io.StringIO()
    with redirect_stderr(errors):
        call_command("spectacular", "--validate", "--fail-on-warn", "--file", "/dev/null")
    assert "Warning" not in errors.getvalue()
    assert "Error" not in errors.getvalue()


def test_the_bearer_scheme_is_http_bearer(document):
    schemes = document["components"]["securitySchemes"]
    assert schemes["bearerAuth"] == {"type": "http", "scheme": "bearer"}
    for label, operation in _operations(document):
        if label.startswith(("POST /auth/logout", "GET /patients", "GET /audit")):
            assert {"bearerAuth": []} in operation["security"], label
    assert "security" not in dict(_operations(document))["POST /auth/login"]


def _json_schema(node):
    """OpenAPI 3.0's schema dialect as JSON Schema: `nullable` as a `null` type."""
    if isinstance(node, list):
        return [_json_schema(item) for item in node]
    if not isinstance(node, dict):
        return node
    node = {key: _json_schema(value) for key, value in node.items()}
    if node.pop("nullable", False):
        if "type" in node:
            node["type"] = [node["type"], "null"]
        else:
            node = {"anyOf": [node, {"type": "null"}]}
    return node


def _examples(document):
    """Every example with the schema it illustrates: (where, value, schema)."""
    for label, operation in _operations(document):
        media = [("request", operation.get("requestBody", {}).get("content", {}))]
        media += [
            (status, response.get("content", {}))
            for status, response in operation["responses"].items()
        ]
        for where, content in media:
            for media_type, body in content.items():
                for name, example in body.get("examples", {}).items():
                    yield f"{label} {where} {media_type} {name}", example["value"], body["schema"]


def test_every_example_is_valid_against_its_own_schema(document):
    components = _json_schema(document["components"])
    checked = 0
    for where, value, schema in _examples(document):
        validator = jsonschema.Draft7Validator(
            {**_json_schema(schema), "components": components},
            format_checker=jsonschema.Draft7Validator.FORMAT_CHECKER,
        )
        errors = [error.message for error in validator.iter_errors(value)]
        assert not errors, f"{where}: {errors}"
        checked += 1
    assert checked >= 10  # the README's: a login, a create and its 201, errors


def test_the_readme_examples_are_in_the_document(document):
    create = document["paths"]["/patients"]["post"]
    request = create["requestBody"]["content"]["application/json"]["examples"]
    assert {"name": "John Doe", "email": "John@Example.com", "phone": "+1 (555) 123-4567"} in [
        example["value"] for example in request.values()
    ]
    created = create["responses"]["201"]["content"]["application/json"]["examples"]
    assert [example["value"]["message"] for example in created.values()] == [
        "Patient created successfully"
    ]
    login = document["paths"]["/auth/login"]["post"]["requestBody"]["content"]
    assert "examples" in login["application/json"]


def _statuses(document, label) -> set[str]:
    return set(dict(_operations(document))[label]["responses"])


@pytest.mark.parametrize(
    ("label", "statuses"),
    [
        ("GET /patients", {"200", "400", "401", "403", "406", "429", "503"}),
        (
            "POST /patients",
            {"201", "400", "401", "403", "406", "409", "413", "415", "422", "429", "503"},
        ),
        ("GET /patients/{id}", {"200", "401", "403", "404", "429"}),
        ("PUT /patients/{id}", {"200", "400", "404", "409", "412", "413", "415", "429"}),
        ("PATCH /patients/{id}", {"200", "400", "404", "409", "412", "413", "415", "429"}),
        ("DELETE /patients/{id}", {"200", "404", "412", "429"}),
        ("GET /patients/{id}/history", {"200", "404", "429"}),
        ("GET /patients/{id}/notifications", {"200", "404", "429"}),
        ("GET /audit", {"200", "400", "401", "403", "429"}),
        ("POST /auth/login", {"200", "400", "401", "415", "429", "503"}),
        ("POST /auth/logout", {"204", "401", "429"}),
    ],
)
def test_each_operation_declares_every_status_it_can_answer(document, label, statuses):
    assert statuses <= _statuses(document, label)


def test_a_view_that_allows_anyone_declares_no_403(document):
    assert "403" not in _statuses(document, "POST /auth/login")
    assert "403" not in _statuses(document, "POST /auth/logout")  # a token, or 401


def test_every_answer_declares_the_request_id_and_no_store(document):
    for label, operation in _operations(document):
        for status, response in operation["responses"].items():
            assert {"X-Request-ID", "Cache-Control"} <= set(response["headers"]), (label, status)


def test_the_concurrency_and_retry_headers_are_declared(document):
    detail = document["paths"]["/patients/{id}"]
    for method in ("put", "patch", "delete"):
        parameters = {p["name"]: p for p in detail[method]["parameters"]}
        assert parameters["If-Match"]["in"] == "header"
        assert "ETag" in detail[method]["responses"]["412"]["headers"]
    assert detail["get"]["responses"]["200"]["headers"]["ETag"]["required"] is True
    create = document["paths"]["/patients"]["post"]
    assert {p["name"] for p in create["parameters"]} >= {"Idempotency-Key"}
    assert {"ETag", "Location", "Idempotent-Replayed"} <= set(create["responses"]["201"]["headers"])
    listing = document["paths"]["/patients"]["get"]["responses"]["200"]["headers"]
    assert {"Link", "X-Total-Count"} <= set(listing)
    assert "Retry-After" in document["paths"]["/patients"]["get"]["responses"]["429"]["headers"]


def test_the_patient_fields_declare_their_formats(document):
    schemas = document["components"]["schemas"]
    patient = schemas["PatientInput"]["properties"]
    assert patient["email"]["format"] == "email"
    assert patient["birth_date"] == {"type": "string", "format": "date", "nullable": True}
    assert patient["phone"]["pattern"] == PHONE_PATTERN
    assert patient["name"]["pattern"] == NAME_PATTERN
    assert schemas["ChannelEnum"]["enum"] == ["sms", "email"]
    assert schemas["Patient"]["properties"]["id"]["format"] == "uuid"
    parameters = document["paths"]["/patients/{id}"]["get"]["parameters"]
    assert [p["schema"]["format"] for p in parameters if p["name"] == "id"] == ["uuid"]


def test_an_empty_query_parameter_is_declared_as_absent(document):
    parameters = document["paths"]["/audit"]["get"]["parameters"]
    assert all(p.get("allowEmptyValue") for p in parameters if p["in"] == "query")


def _accepts(field, value: str) -> bool:
    try:
        field.run_validation(value)
    except (DRFValidationError, ValidationError):
        return False
    return True


# Characters from each class the rules tell apart: ASCII and other digits, the separators
# and their full-width forms, spaces of every kind, letters, numerals that are not digits,
# invisible and control characters.
_PHONE_ALPHABET = (
    "0123456789+-.() \t\n\u00a0\u2003\u3000\uff0b\uff0d\uff08\uff09\uff0e\u207a\ufe63"
    "\u0665\u096b\uff15\u00b2\u2460xX#/\u200b\x00"
)
_NAME_ALPHABET = (
    "aZé李Ωж \t\n\u00a0\u3000-'.0123\u0665²\u2460\u2167\u0301\u200b\u200e\u202e\u00ad"
    "\ufeff\ue000\x00\x1f\x85\u2028"
)


def _samples(alphabet: str, lengths: range, count: int, seed: int):
    rng = random.Random(seed)
    for _ in range(count):
        yield "".join(rng.choice(alphabet) for _ in range(rng.choice(lengths)))


def test_the_phone_pattern_accepts_exactly_what_the_service_does():
    field = PhoneField()
    samples = [
        "+1 (555) 123-4567",
        "555.987.6543",
        "  +15551234567  ",
        "\uff0b\uff11\uff15\uff15\uff15\uff11\uff12\uff13\uff14\uff15\uff16\uff17",
        "1234567",
        "123456",
        "1234567890123456",
        "12-34-56-78",
        "+" + "-" * 60 + "1234567",
        "+" + "-" * 56 + "1234567",
        "1+234567",
        *_samples(_PHONE_ALPHABET, range(0, 24), 4000, seed=1),
        *_samples("0123456789 -.()+\u0665", range(5, 70), 2000, seed=2),
    ]
    disagree = [
        value
        for value in samples
        if bool(re.search(PHONE_PATTERN, value)) != _accepts(field, value)
    ]
    assert disagree == []


def test_the_name_pattern_refuses_only_what_the_service_refuses():
    """What the pattern refuses, the service refuses; what it accepts, the service accepts
    unless it has no letter (or holds a character the pattern cannot name: an unassigned one,
    or an invisible one beyond the Basic Multilingual Plane, not among these samples)."""
    field = NameField()
    samples = [
        "John Doe",
        "  Émile Zola ",
        "李小龍",
        "x" * 200,
        " " + "x" * 200 + "\t",
        "x" * 201,
        "Doe\tJohn",
        "\u3000",
        *_samples(_NAME_ALPHABET, range(0, 12), 6000, seed=3),
    ]
    for value in samples:
        matches = bool(re.search(NAME_PATTERN, value))
        has_letter = any(unicodedata.category(char).startswith("L") for char in value)
        assert _accepts(field, value) == (matches and has_letter), repr(value)


def _in_class(body: str):
    pattern = re.compile(f"[{body}]")
    return lambda char: bool(pattern.fullmatch(char))


def test_the_patterns_character_classes_are_unicodes():
    """Spelled out from Unicode's tables, which grow with each Unicode (and Python) version:
    a new Python may need them spelled out again."""
    bmp = [chr(code) for code in range(0x10000) if not 0xD800 <= code <= 0xDFFF]
    hidden = _in_class(NAME_HIDDEN)
    assert [c for c in bmp if hidden(c)] == [
        c for c in bmp if unicodedata.category(c) in {"Cc", "Cf", "Co", "Zl", "Zp"}
    ]
    digits = _in_class(PHONE_DIGITS)
    assert [c for c in bmp if digits(c)] == [c for c in bmp if unicodedata.category(c) == "Nd"]
    whitespace = _in_class(WHITESPACE)
    everything = [chr(code) for code in range(0x110000) if not 0xD800 <= code <= 0xDFFF]
    assert [c for c in everything if whitespace(c)] == [c for c in everything if c.isspace()]


def test_an_opt_out_must_be_a_json_boolean(alice):
    """Found by the fuzzer: DRF read 0, 1, "yes" or "off" as booleans, which the document
    (and docs/api.md) does not admit."""
    body = {"name": "Ann Lee", "email": "ann@example.com", "phone": "5550101234"}
    for value in (0, 1, "yes", "false", None):
        response = alice.post("/patients", {**body, "sms_opt_out": value}, format="json")
        assert response.status_code == 400, value
        assert "sms_opt_out" in response.json()["errors"]
    response = alice.post("/patients", {**body, "email_opt_out": True}, format="json")
    assert response.status_code == 201
    assert response.json()["patient"]["email_opt_out"] is True


def test_the_docs_pages_are_served_from_the_service():
    client = APIClient()
    for path, marker in (("/api/docs/", b"swagger-ui"), ("/api/redoc/", b"redoc")):
        response = client.get(path)
        assert response.status_code == 200, path
        assert marker in response.content
        assert b"https://" not in response.content, path  # no CDN, no font host
    assert client.get("/").json()["redoc"] == "http://testserver/api/redoc"
