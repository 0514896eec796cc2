"""The size of a request body: one MiB is the most, refused as a JSON 413 before it is read
(even without a token), and a body of unknown length is a JSON 411."""

from http import HTTPStatus

import pytest

from api.tests.hostile import ONE_MIB, VALID, assert_json_error, body, snapshot
from patients.models import Patient

pytestmark = pytest.mark.django_db


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
