"""Hostile request bodies to the writing calls: broken or non-UTF-8 JSON, NUL, wrong types,
absurd sizes and depths, other content types. Each is a JSON 400 or 415 that changes no
patient record."""

import json
from http import HTTPStatus

import pytest

from api.tests.hostile import VALID, assert_json_error, body, nested, snapshot

pytestmark = pytest.mark.django_db


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
