"""api.serving's front, called as an ASGI server calls it: what the application sees of a
request, and what the client gets when the body is slow, too large or cut, the process is
overloaded or the application itself raises. The real server is in tests/test_serving.py."""

import asyncio
import json
import logging
import re
import threading

import pytest

from api.serving import WSGIFront


def _echo(environ, start_response):
    """A WSGI app that answers with what it was given."""
    seen = {key: value for key, value in environ.items() if key.isupper()}
    seen["body"] = environ["wsgi.input"].read().decode()
    start_response("200 OK", [("Content-Type", "application/json")])
    return [json.dumps(seen).encode()]


def _front(app=_echo, **options) -> WSGIFront:
    settings = {"threads": 2, "body_timeout": 5.0, "max_body": 100, "max_waiting": 10}
    return WSGIFront(app, **{**settings, **options})


def _scope(method="POST", path="/patients", query=b"", headers=()) -> dict:
    return {
        "type": "http",
        "method": method,
        "path": path,
        "raw_path": path.encode(),
        "query_string": query,
        "headers": [(name.encode(), value.encode()) for name, value in headers],
        "client": ("203.0.113.9", 50000),
        "server": ("127.0.0.1", 8000),
        "http_version": "1.1",
        "scheme": "http",
    }


def _call(front, scope, messages) -> tuple[int, dict, bytes]:
    """Run one request through the front; messages are what receive() returns in turn (then
    it waits for ever, as a silent client does)."""
    sent = []

    async def run():
        queue = list(messages)

        async def receive():
            if queue:
                return queue.pop(0)
            await asyncio.sleep(3600)

        async def send(message):
            sent.append(message)

        await front(scope, receive, send)

    asyncio.run(run())
    start = sent[0]
    headers = {name.decode(): value.decode() for name, value in start["headers"]}
    return start["status"], headers, b"".join(m.get("body", b"") for m in sent[1:])


def _body(data: bytes, more=False) -> dict:
    return {"type": "http.request", "body": data, "more_body": more}


def test_the_application_gets_the_whole_body_with_its_length_even_when_chunked():
    scope = _scope(headers=[("transfer-encoding", "chunked"), ("content-type", "text/plain")])

    status, _, body = _call(_front(), scope, [_body(b"hel", more=True), _body(b"lo")])

    seen = json.loads(body)
    assert status == 200
    assert (seen["body"], seen["CONTENT_LENGTH"]) == ("hello", "5")
    assert seen["CONTENT_TYPE"] == "text/plain"
    assert "HTTP_TRANSFER_ENCODING" not in seen


def test_the_environ_has_the_path_query_and_client_address():
    scope = _scope(method="GET", path="/patients/a%20b", query=b"search=x")

    _, _, body = _call(_front(), scope, [])

    seen = json.loads(body)
    assert (seen["PATH_INFO"], seen["QUERY_STRING"]) == ("/patients/a b", "search=x")
    assert seen["REMOTE_ADDR"] == "203.0.113.9"
    assert seen["HTTP_HOST"] == "127.0.0.1:8000"


def test_a_header_with_underscores_cannot_pose_as_a_forwarded_address():
    scope = _scope(
        method="GET",
        headers=[("x-forwarded-for", "198.51.100.7"), ("x_forwarded_for", "6.6.6.6")],
    )

    _, _, body = _call(_front(), scope, [])

    assert json.loads(body)["HTTP_X_FORWARDED_FOR"] == "198.51.100.7"


def test_a_body_that_stops_arriving_gets_a_json_408_and_a_close():
    scope = _scope(headers=[("content-length", "100")])

    status, headers, body = _call(_front(body_timeout=0.2), scope, [_body(b"{}", more=True)])

    assert status == 408
    assert headers["connection"] == "close"
    assert json.loads(body) == {"error": "Request body not received in time"}


@pytest.mark.parametrize(
    ("headers", "messages"),
    [
        ([("content-length", "101")], []),  # declared too large: not even read
        ([("transfer-encoding", "chunked")], [_body(b"x" * 60, True), _body(b"x" * 60)]),
    ],
)
def test_a_body_over_the_limit_gets_a_json_413(headers, messages):
    status, _, body = _call(_front(), _scope(headers=headers), messages)

    assert status == 413
    assert json.loads(body) == {"error": "Request body too large (limit 100 bytes)"}


def test_a_client_gone_mid_body_never_reaches_the_application():
    called = []

    def app(environ, start_response):
        called.append(environ)

    async def run():
        messages = [_body(b"{", more=True), {"type": "http.disconnect"}]

        async def receive():
            return messages.pop(0)

        async def send(message):
            raise AssertionError("nothing is sent to a client that left")

        await _front(app)(_scope(headers=[("content-length", "10")]), receive, send)

    asyncio.run(run())

    assert called == []


def test_an_application_that_raises_gets_a_json_500_not_a_page_of_the_servers():
    def broken(environ, start_response):
        raise RuntimeError("boom")

    status, headers, body = _call(_front(broken), _scope(method="GET"), [])

    assert status == 500
    assert headers["content-type"] == "application/json"
    assert json.loads(body) == {"error": "Internal server error"}


def test_a_process_with_too_many_requests_waiting_answers_a_json_503():
    release = threading.Event()

    def slow(environ, start_response):
        release.wait(10)
        start_response("200 OK", [])
        return [b"done"]

    front = _front(slow, threads=1, max_waiting=1)

    async def run():
        async def receive():
            await asyncio.sleep(3600)

        first_sent, second_sent = [], []

        async def send_first(message):
            first_sent.append(message)

        async def send_second(message):
            second_sent.append(message)

        first = asyncio.create_task(front(_scope(method="GET"), receive, send_first))
        await asyncio.sleep(0.1)  # the first now holds the one place
        await front(_scope(method="GET"), receive, send_second)
        release.set()
        await first
        return first_sent, second_sent

    first_sent, second_sent = asyncio.run(run())

    assert first_sent[0]["status"] == 200
    assert second_sent[0]["status"] == 503
    assert (b"retry-after", b"1") in second_sent[0]["headers"]


def test_a_streamed_response_is_sent_whole_and_closed():
    closed = []

    class Streamed:
        streaming = True

        def __iter__(self):
            return iter([b"a" * 5000, b"b" * 5000])

        def close(self):
            closed.append(True)

    def app(environ, start_response):
        start_response("200 OK", [("Content-Type", "text/css")])
        return Streamed()

    status, _, body = _call(_front(app), _scope(method="GET"), [])

    assert status == 200
    assert body == b"a" * 5000 + b"b" * 5000
    assert closed == [True]


def test_a_plain_response_is_closed_in_the_thread_that_ran_it():
    threads = []

    class Response(list):
        def close(self):
            threads.append(("close", threading.get_ident()))

    def app(environ, start_response):
        threads.append(("run", threading.get_ident()))
        start_response("200 OK", [])
        return Response([b"ok"])

    _, _, body = _call(_front(app), _scope(method="GET"), [])

    assert body == b"ok"
    assert [name for name, _ in threads] == ["run", "close"]
    assert threads[0][1] == threads[1][1]


@pytest.mark.parametrize(
    ("given", "kept"), [("lb-42.a_Z", True), ("two words", False), ("x" * 65, False)]
)
def test_the_application_and_the_client_get_the_same_request_id(given, kept):
    scope = _scope(method="GET", headers=[("x-request-id", given)])

    _, headers, body = _call(_front(), scope, [])

    request_id = json.loads(body)["HTTP_X_REQUEST_ID"]
    assert headers["x-request-id"] == request_id
    assert (request_id == given) is kept
    assert kept or re.fullmatch(r"[0-9a-f]{32}", request_id)


def test_the_fronts_own_answers_carry_a_request_id_and_are_in_the_access_log(caplog):
    scope = _scope(query=b"search=Zelda", headers=[("content-length", "101")])

    with caplog.at_level(logging.INFO, logger="api.access"):
        status, headers, _ = _call(_front(), scope, [])

    (record,) = [r for r in caplog.records if r.name == "api.access"]
    assert status == 413
    assert record.request_id == headers["x-request-id"]
    assert record.getMessage().startswith('203.0.113.9 "POST /patients" 413 ')
    assert "Zelda" not in record.getMessage()
