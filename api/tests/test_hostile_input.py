"""No client input ever yields a 500 or an HTML error page: each hostile request below gets a
JSON 4xx with "error" or "message", and changes no patient record."""

import base64
import json
from http import HTTPStatus

import pytest

from patients.models import Patient
from patients.tests.factories import PatientFactory

pytestmark = pytest.mark.django_db

VALID = {"name": "Jane Doe", "email": "jane@example.com", "phone": "5551234567"}
ONE_MIB = 1024 * 1024


def body(**overrides) -> bytes:
    """A valid patient as JSON bytes, with some fields replaced."""
    return json.dumps({**VALID, **overrides}).encode()


def nested(depth: int) -> bytes:
    return b"[" * depth + b"]" * depth


def cursor(raw: str) -> str:
    """A cursor as DRF encodes one, around a hand-made (hostile) position."""
    return base64.b64encode(raw.encode()).decode()


def assert_json_error(response, status: HTTPStatus) -> dict:
    assert response.status_code == status, response.content[:300]
    assert response["Content-Type"].startswith("application/json")
    payload = response.json()
    assert isinstance(payload, dict)
    assert "error" in payload or "message" in payload
    return payload


def snapshot() -> list[dict]:
    """Every patient row, to show a request changed nothing."""
    return list(Patient.objects.order_by("pk").values())


@pytest.fixture
def patient() -> Patient:
    return PatientFactory(name="Existing Patient")


@pytest.fixture(params=["post", "put", "patch"])
def write(request, alice, patient):
    """Sends raw bytes to one of the writing calls: POST /patients, PUT or PATCH /patients/<id>."""
    path = "/patients" if request.param == "post" else f"/patients/{patient.pk}"
    send = getattr(alice, request.param)

    def write(data: bytes, content_type: str = "application/json", **extra):
        return send(path, data=data, content_type=content_type, **extra)

    return write


@pytest.mark.parametrize(
    "data",
    [
        pytest.param(b'{"name": "Jane Doe",', id="truncated-json"),
        pytest.param(b'{"name": "Jane Doe"} trailing', id="trailing-garbage"),
        pytest.param(b"{'name': 'Jane Doe'}", id="single-quotes"),
        pytest.param(b"   ", id="only-whitespace"),
        pytest.param(body().replace(b"Jane Doe", b"Jane \xff\xfe Doe"), id="not-utf8"),
        pytest.param(body().replace(b"Jane", b"Jos\xe9"), id="latin1-byte"),
        pytest.param(b"\xc3\x28" + body(), id="invalid-utf8-sequence"),
        pytest.param(json.dumps(VALID).encode("utf-16"), id="utf16"),
        pytest.param(body(name="a\x00b"), id="nul-in-name"),
        pytest.param(body(email="jane\x00@example.com"), id="nul-in-email"),
        pytest.param(body(phone="555123\x004567"), id="nul-in-phone"),
        pytest.param(body(name="\x00"), id="only-nul"),
        pytest.param(body().replace(b"Jane Doe", b"Jane\x00Doe"), id="raw-nul-byte"),
        pytest.param(body(name="\ud800"), id="lone-surrogate"),
        pytest.param(b"[]", id="empty-array"),
        pytest.param(json.dumps([VALID]).encode(), id="array-of-patient"),
        pytest.param(b'"Jane Doe"', id="string"),
        pytest.param(b"42", id="number"),
        pytest.param(b"true", id="boolean"),
        pytest.param(b"null", id="null"),
        pytest.param(body(name=["Jane", "Doe"]), id="name-list"),
        pytest.param(body(name={"first": "Jane"}), id="name-object"),
        pytest.param(body(name=True), id="name-true"),
        pytest.param(body(name=123), id="name-number"),
        pytest.param(body(phone=5551234567), id="phone-number"),
        pytest.param(body(email=1.5), id="email-number"),
        pytest.param(body(name=None), id="name-null"),
        pytest.param(body(email=["jane@example.com"]), id="email-list"),
        pytest.param(body(phone={"number": "5551234567"}), id="phone-object"),
        pytest.param(body(phone=False), id="phone-false"),
        pytest.param(body(name="x" * 10_000), id="name-10000-chars"),
        pytest.param(body(email="j" * 10_000 + "@example.com"), id="email-10000-chars"),
        pytest.param(body(phone="5" * 10_000), id="phone-10000-chars"),
        pytest.param(body(name="   "), id="name-blank"),
        pytest.param(body(email="not-an-email"), id="email-invalid"),
        pytest.param(body(phone="12-34"), id="phone-invalid"),
        pytest.param(b'{"name": NaN}', id="nan"),
        pytest.param(b'{"name": 1' + b"0" * 5000 + b"}", id="5000-digit-number"),
        pytest.param(nested(100_000), id="array-nested-100000-deep"),
        pytest.param(
            b'{"name": ' + b'{"a": ' * 100_000 + b"1" + b"}" * 100_001, id="object-nested-deep"
        ),
    ],
)
def test_hostile_body_is_a_json_400_and_changes_nothing(write, data):
    before = snapshot()

    response = write(data)

    assert_json_error(response, HTTPStatus.BAD_REQUEST)
    assert snapshot() == before


def test_nul_in_a_json_string_names_the_field(alice):
    response = alice.post("/patients", data=body(name="a\x00b"), content_type="application/json")

    payload = assert_json_error(response, HTTPStatus.BAD_REQUEST)
    assert "name" in payload["errors"]


def test_a_wrong_type_names_the_field(alice):
    response = alice.post("/patients", data=body(name=["Jane"]), content_type="application/json")

    payload = assert_json_error(response, HTTPStatus.BAD_REQUEST)
    assert payload["error"] == "Name must be a string."


def test_a_body_that_is_not_an_object_says_so(alice):
    response = alice.post("/patients", data=b"[]", content_type="application/json")

    payload = assert_json_error(response, HTTPStatus.BAD_REQUEST)
    assert "JSON object" in payload["error"]


def test_body_over_one_mib_is_a_json_413_and_changes_nothing(write):
    data = body(name="x" * ONE_MIB)
    before = snapshot()

    response = write(data)

    assert len(data) > ONE_MIB
    assert_json_error(response, HTTPStatus.REQUEST_ENTITY_TOO_LARGE)
    assert snapshot() == before


def test_body_of_exactly_one_mib_is_accepted(alice):
    data = body()
    data = data[:-1] + b" " * (ONE_MIB - len(data)) + b"}"

    response = alice.post("/patients", data=data, content_type="application/json")

    assert len(data) == ONE_MIB
    assert response.status_code == HTTPStatus.CREATED
    assert Patient.objects.filter(email=VALID["email"]).exists()


def test_a_declared_length_over_one_mib_is_refused_before_reading(alice):
    before = snapshot()

    response = alice.post(
        "/patients",
        data=body(),
        content_type="application/json",
        CONTENT_LENGTH=str(ONE_MIB + 1),
    )

    assert_json_error(response, HTTPStatus.REQUEST_ENTITY_TOO_LARGE)
    assert snapshot() == before


def test_an_oversized_body_is_refused_even_without_a_token(anonymous):
    response = anonymous.post(
        "/patients", data=body(name="x" * ONE_MIB), content_type="application/json"
    )

    assert_json_error(response, HTTPStatus.REQUEST_ENTITY_TOO_LARGE)
    assert not Patient.objects.exists()


@pytest.mark.parametrize(
    "content_type", ["text/plain", "application/xml", "text/html", "application/octet-stream"]
)
def test_unsupported_content_type_is_a_json_415_and_changes_nothing(write, content_type):
    before = snapshot()

    response = write(body(), content_type=content_type)

    assert_json_error(response, HTTPStatus.UNSUPPORTED_MEDIA_TYPE)
    assert snapshot() == before


@pytest.mark.parametrize(
    ("data", "content_type"),
    [
        pytest.param(b"--x--", "multipart/form-data", id="multipart-without-boundary"),
        pytest.param(body(), "application/json; charset=utf-16", id="charset-not-the-bytes"),
        pytest.param(
            b"name=a%00b&email=j@example.com&phone=5551234567",
            "application/x-www-form-urlencoded",
            id="form-nul",
        ),
    ],
)
def test_malformed_non_json_body_is_a_json_400_and_changes_nothing(write, data, content_type):
    before = snapshot()

    response = write(data, content_type=content_type)

    assert_json_error(response, HTTPStatus.BAD_REQUEST)
    assert snapshot() == before


@pytest.mark.parametrize(
    "authorization",
    [
        pytest.param("Bearer \xff\xfe", id="non-utf8-token"),
        pytest.param("\xff\xfe", id="non-utf8-scheme"),
        pytest.param("Bearer \u00e9t\u00e9", id="latin1-token"),
        pytest.param("Bearer", id="no-token"),
        pytest.param("Bearer two words", id="token-with-space"),
        pytest.param("Bearer " + "a" * 100_000, id="100000-char-token"),
        pytest.param("Token abc", id="other-scheme"),
    ],
)
def test_hostile_authorization_header_is_a_json_401_and_changes_nothing(
    anonymous, patient, authorization
):
    before = snapshot()

    reads = anonymous.get("/patients", HTTP_AUTHORIZATION=authorization)
    writes = anonymous.post(
        "/patients", data=body(), content_type="application/json", HTTP_AUTHORIZATION=authorization
    )

    for response in (reads, writes):
        assert assert_json_error(response, HTTPStatus.UNAUTHORIZED) == {"message": "Unauthorized"}
        assert response["WWW-Authenticate"] == "Bearer"
    assert snapshot() == before


@pytest.mark.parametrize(
    "query",
    [
        pytest.param("search=%00", id="nul-search"),
        pytest.param("search=Jane%00Doe", id="nul-inside-search"),
        pytest.param("%00=1", id="nul-in-key"),
        pytest.param("cursor=%00", id="nul-cursor"),
        pytest.param("cursor=garbage", id="garbage-cursor"),
        pytest.param("cursor=" + cursor("o=abc"), id="cursor-bad-offset"),
        pytest.param("cursor=" + cursor("p=not-a-date"), id="cursor-bad-position"),
        pytest.param("cursor=" + cursor("p=2024-01-01"), id="cursor-position-without-zone"),
        pytest.param(
            "cursor=" + cursor("p=9999-12-31T23:59:59-14:00"), id="cursor-position-past-year-9999"
        ),
        pytest.param("cursor=" + cursor("p=2024-13-45T00:00:00Z"), id="cursor-impossible-date"),
        pytest.param("count=maybe", id="count-not-boolean"),
        pytest.param("search=" + "x" * 10_000, id="search-10000-chars"),
    ],
)
def test_hostile_query_is_a_json_400(alice, query):
    response = alice.get(f"/patients?{query}")

    assert_json_error(response, HTTPStatus.BAD_REQUEST)


def test_nul_in_a_query_is_refused_even_without_a_token(anonymous):
    response = anonymous.get("/patients?search=%00")

    assert_json_error(response, HTTPStatus.BAD_REQUEST)


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("delete", "/patients"),
        ("put", "/patients"),
        ("patch", "/patients"),
        ("delete", "/patients/"),
        ("post", "/patients/{id}"),
    ],
)
def test_unsupported_method_is_a_json_405_and_changes_nothing(alice, patient, method, path):
    before = snapshot()

    response = getattr(alice, method)(
        path.format(id=patient.pk), data=body(), content_type="application/json"
    )

    assert_json_error(response, HTTPStatus.METHOD_NOT_ALLOWED)
    assert snapshot() == before


def test_unknown_method_is_a_json_405(alice):
    response = alice.generic("PROPFIND", "/patients")

    assert_json_error(response, HTTPStatus.METHOD_NOT_ALLOWED)


@pytest.mark.parametrize(
    "path",
    [
        "/nope",
        "/patients/extra/segments",
        "/auth/unknown",
        "/%ff",
        "/static/missing.css",
        "/" + "a" * 10_000,
    ],
)
@pytest.mark.parametrize("accept", ["application/json", "text/html"])
def test_unknown_url_is_a_json_404(alice, path, accept):
    response = alice.get(path, HTTP_ACCEPT=accept)

    assert_json_error(response, HTTPStatus.NOT_FOUND)


@pytest.mark.parametrize(
    "patient_id",
    [
        "not-a-uuid",
        "12345",
        "%ff",
        "00000000-0000-0000-0000-00000000000g",
        "00000000-0000-0000-0000-0000000000001",
        "00000000-0000-0000-0000-000000000000",
        "x" * 10_000,
        "1.2",
        "00000000-0000-0000-0000-000000000000.json",
    ],
)
@pytest.mark.parametrize("method", ["GET", "PUT", "PATCH", "DELETE"])
def test_malformed_or_unknown_patient_id_is_a_json_404_and_changes_nothing(
    alice, patient, method, patient_id
):
    before = snapshot()

    response = alice.generic(method, f"/patients/{patient_id}", body(), "application/json")

    assert assert_json_error(response, HTTPStatus.NOT_FOUND) == {"message": "Patient not found"}
    assert snapshot() == before


@pytest.mark.parametrize("method", ["GET", "PUT", "PATCH", "DELETE"])
def test_nul_in_a_patient_id_is_a_json_400_and_changes_nothing(alice, patient, method):
    before = snapshot()

    response = alice.generic(method, "/patients/%00", body(), "application/json")

    assert_json_error(response, HTTPStatus.BAD_REQUEST)
    assert snapshot() == before


@pytest.mark.parametrize(
    "header",
    [
        pytest.param({"HTTP_AUTHORIZATION": "Bearer \x00\x00"}, id="nul-token"),
        pytest.param({"HTTP_COOKIE": "sessionid=" + "\x00" * 32}, id="nul-session-cookie"),
        pytest.param({"HTTP_X_ANYTHING": "a\x00b"}, id="nul-other-header"),
    ],
)
@pytest.mark.parametrize("path", ["/patients", "/admin/"])
def test_nul_in_a_header_is_a_json_400(anonymous, header, path):
    # PostgreSQL refuses NUL in text with an exception, so it must never reach a lookup.
    response = anonymous.get(path, **header)

    assert_json_error(response, HTTPStatus.BAD_REQUEST)


def test_a_chunked_body_without_length_is_a_json_411_and_changes_nothing(alice):
    before = snapshot()

    response = alice.generic(
        "POST",
        "/patients",
        data=b"",
        content_type="application/json",
        HTTP_TRANSFER_ENCODING="chunked",
    )

    assert_json_error(response, HTTPStatus.LENGTH_REQUIRED)
    assert snapshot() == before
