"""The benchmark's floor (bench/floor.py) answers the five measured paths as the API does, or
its figures would not be a floor for the same work."""

import io
import json
from http import HTTPStatus
from wsgiref.util import setup_testing_defaults

import pytest
import redis

from bench import floor


@pytest.fixture
def app(tmp_path, monkeypatch, test_redis):
    store = floor.Store(str(tmp_path / "floor.sqlite3"))
    middle = store.create(100)
    monkeypatch.setattr(floor, "store", store)
    monkeypatch.setattr(floor, "enqueue", floor.Enqueue(test_redis.url))
    monkeypatch.setattr(floor, "TOKEN", b"Bearer t0k3n")
    redis.Redis.from_url(test_redis.url).delete("floor")
    return middle


def call(method: str, path: str, body: dict | None = None, token: str = "t0k3n"):
    data = json.dumps(body).encode() if body is not None else b""
    path, _, query = path.partition("?")
    environ = {
        "REQUEST_METHOD": method,
        "PATH_INFO": path,
        "QUERY_STRING": query,
        "HTTP_AUTHORIZATION": f"Bearer {token}",
        "CONTENT_LENGTH": str(len(data)),
        "wsgi.input": io.BytesIO(data),
    }
    setup_testing_defaults(environ)
    status = []
    body = b"".join(floor.application(environ, lambda s, h: status.append(int(s[:3]))))
    return status[0], json.loads(body)


def test_the_floor_answers_the_five_paths(app, test_redis):
    status, patient = call("GET", f"/patients/{app}")
    assert status == HTTPStatus.OK
    assert patient["id"] == app

    status, first = call("GET", "/patients")
    assert status == HTTPStatus.OK
    assert [p["name"] for p in first] == [f"Floor {n}" for n in range(50)]
    status, deep = call("GET", "/patients?after=90")
    assert [p["name"] for p in deep] == [f"Floor {n}" for n in range(90, 100)]

    new = {"name": "Ann Lee", "email": "ann@example.org", "phone": "+15550100000"}
    status, created = call("POST", "/patients", new)
    assert status == HTTPStatus.CREATED
    assert call("GET", f"/patients/{created['patient_id']}")[1]["email"] == "ann@example.org"
    assert call("POST", "/patients", new)[0] == HTTPStatus.CONFLICT
    queued = redis.Redis.from_url(test_redis.url).lrange("floor", 0, -1)
    assert [json.loads(m)["patient_id"] for m in queued] == [created["patient_id"]]

    assert call("PUT", f"/patients/{app}", {"name": "New Name"})[0] == HTTPStatus.OK
    assert call("GET", f"/patients/{app}")[1]["name"] == "New Name"


def test_the_floor_refuses_a_wrong_token_and_unknown_ids(app):
    assert call("GET", f"/patients/{app}", token="wrong")[0] == HTTPStatus.UNAUTHORIZED
    assert call("GET", "/patients/nobody")[0] == HTTPStatus.NOT_FOUND
    assert call("PUT", "/patients/nobody", {"name": "X"})[0] == HTTPStatus.NOT_FOUND
