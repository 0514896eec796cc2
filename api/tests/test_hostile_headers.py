"""Hostile headers: a broken Authorization header is a JSON 401, and NUL in any header a JSON
400 before it can reach a database lookup."""

from http import HTTPStatus

import pytest

from api.tests.hostile import assert_json_error, body, snapshot

pytestmark = pytest.mark.django_db


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
