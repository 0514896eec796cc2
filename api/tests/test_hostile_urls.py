"""Hostile URLs, queries and methods: an unknown path or patient id is a JSON 404, a broken
query or a NUL anywhere in the URL a JSON 400, an unsupported method a JSON 405; none changes
a patient record."""

from http import HTTPStatus

import pytest

from api.tests.hostile import assert_json_error, body, cursor, snapshot

pytestmark = pytest.mark.django_db


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
