"""The web server as `make run` runs it (granian with api.serving in front of Django), tried
with real sockets as slow and half-sent clients would: they cost everyone else nothing, are
cut off after a bounded time with a JSON answer or a plain close, and leave no query string in
the server's logs, whose lines carry the request's id and cannot be forged."""

import json
import os
import re
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

from scripts.devstack import web_server_command
from scripts.redis_server import free_port

pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parents[1]
HEADER_TIMEOUT = BODY_TIMEOUT = 2  # seconds; make run's are 10
# Unbounded, a slow client holds its connection for as long as it likes; a stalled server
# keeps others waiting about 30 s. These bounds are far from both and far above a good answer.
CUT_OFF_WITHIN = 15
SERVED_WITHIN = 3


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    """One web process with two threads: slow clients must not need threads at all."""
    tmp = tmp_path_factory.mktemp("serving")
    env = {
        **os.environ,
        "DATABASE_URL": f"sqlite:///{tmp / 'db.sqlite3'}",
        "WEB_CONCURRENCY": "1",
        "WEB_THREADS": "2",
        "WEB_HEADER_TIMEOUT": str(HEADER_TIMEOUT),
        "WEB_BODY_TIMEOUT": str(BODY_TIMEOUT),
    }
    subprocess.run(
        [sys.executable, "manage.py", "migrate", "--noinput"],
        cwd=ROOT, env=env, check=True, capture_output=True,
    )  # fmt: skip
    port = free_port()
    log = tmp / "server.log"
    with log.open("w") as out:
        process = subprocess.Popen(
            web_server_command(port), cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT
        )
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline and not _answers(port):
        assert process.poll() is None, log.read_text()
        time.sleep(0.1)
    yield port, log
    process.terminate()
    process.wait(timeout=30)


def _answers(port: int) -> bool:
    try:
        return _exchange(
            port, b"GET / HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n", 2
        )[0]
    except OSError:
        return False


def _exchange(port: int, request: bytes, timeout: float) -> tuple[bytes, float]:
    """Send a request and read until the server closes: what came back, and when it closed."""
    started = time.monotonic()
    with socket.create_connection(("127.0.0.1", port), timeout=timeout) as sock:
        sock.sendall(request)
        received = b""
        while chunk := sock.recv(65536):
            received += chunk
    return received, time.monotonic() - started


def _json_body(response: bytes) -> dict:
    head, _, body = response.partition(b"\r\n\r\n")
    assert b"content-type: application/json" in head.lower()
    return json.loads(body)


def _login_request() -> bytes:
    body = b'{"username": "x", "password": "y"}'
    return (
        b"POST /auth/login HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
        + f"Content-Length: {len(body)}\r\nConnection: close\r\n\r\n".encode()
        + body
    )


def _slow_clients(port: int, count: int) -> list[socket.socket]:
    """`count` connections stuck in their headers and `count` stuck in a body."""
    held = []
    for _ in range(count):
        sock = socket.create_connection(("127.0.0.1", port))
        sock.sendall(
            b"GET /patients?search=Zelda+Quill HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow: 1\r\n"
        )
        held.append(sock)
    for _ in range(count):
        sock = socket.create_connection(("127.0.0.1", port))
        sock.sendall(
            b"POST /auth/login?search=Zelda+Quill HTTP/1.1\r\nHost: 127.0.0.1\r\n"
            b"Content-Type: application/json\r\nContent-Length: 100\r\n\r\n{}"
        )
        held.append(sock)
    return held


def test_fifty_slow_clients_of_each_kind_do_not_delay_another_client(server):
    port, _ = server
    held = _slow_clients(port, 50)
    try:
        time.sleep(0.5)
        answers = []
        for _ in range(10):
            answers.append(
                _exchange(
                    port, b"GET / HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n", 10
                )
            )
        login = _exchange(port, _login_request(), 10)
    finally:
        for sock in held:
            sock.close()

    slowest = max(elapsed for _, elapsed in [*answers, login])
    assert slowest < SERVED_WITHIN, f"another client waited {slowest:.1f}s"
    assert all(response.startswith(b"HTTP/1.1 200") for response, _ in answers)
    assert "patients" in _json_body(answers[0][0])
    assert login[0].startswith(b"HTTP/1.1 400")
    assert _json_body(login[0])["errors"]["credentials"] == ["Invalid username or password"]


def test_unfinished_headers_are_closed_after_the_header_timeout(server):
    port, _ = server

    response, closed_after = _exchange(
        port, b"GET /patients HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Half", CUT_OFF_WITHIN
    )

    assert closed_after < CUT_OFF_WITHIN
    assert closed_after >= HEADER_TIMEOUT - 0.5
    assert response == b""  # a plain close: no error page of the server's own


def test_a_body_shorter_than_its_length_gets_a_json_408_and_is_closed(server):
    port, _ = server

    response, closed_after = _exchange(
        port,
        b"POST /auth/login HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
        b"Content-Length: 100\r\n\r\n{}",
        CUT_OFF_WITHIN,
    )

    assert closed_after < CUT_OFF_WITHIN
    assert response.startswith(b"HTTP/1.1 408")
    assert _json_body(response) == {"error": "Request body not received in time"}


def test_a_declared_body_over_the_limit_is_a_json_413_before_it_is_read(server):
    port, _ = server

    response, _ = _exchange(
        port,
        b"POST /auth/login HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
        b"Content-Length: 99999999\r\n\r\n{",
        CUT_OFF_WITHIN,
    )

    assert response.startswith(b"HTTP/1.1 413")
    assert "too large" in _json_body(response)["error"]


def test_the_front_answers_an_operation_outcome_under_fhir(server):
    port, _ = server

    response, closed_after = _exchange(
        port,
        b"POST /fhir/Patient HTTP/1.1\r\nHost: 127.0.0.1\r\n"
        b"Content-Type: application/fhir+json\r\nContent-Length: 100\r\n\r\n{",
        CUT_OFF_WITHIN,
    )

    assert closed_after < CUT_OFF_WITHIN
    assert response.startswith(b"HTTP/1.1 408")
    head, _, body = response.partition(b"\r\n\r\n")
    assert b"content-type: application/fhir+json" in head.lower()
    body = json.loads(body)
    assert body["resourceType"] == "OperationOutcome"
    assert body["issue"][0]["code"] == "timeout"


def test_a_chunked_body_reaches_the_api_whole(server):
    port, _ = server
    body = b'{"username": "x", "password": "y"}'

    response, _ = _exchange(
        port,
        b"POST /auth/login HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
        b"Transfer-Encoding: chunked\r\nConnection: close\r\n\r\n"
        + f"{len(body):x}\r\n".encode()
        + body
        + b"\r\n0\r\n\r\n",
        10,
    )

    assert response.startswith(b"HTTP/1.1 400")
    assert _json_body(response)["errors"]["credentials"] == ["Invalid username or password"]


def test_the_servers_logs_never_carry_a_query_string(server):
    port, log = server
    for sock in _slow_clients(port, 2):  # cut off by both timeouts, then closed
        sock.settimeout(CUT_OFF_WITHIN)
        try:
            while sock.recv(65536):
                pass
        finally:
            sock.close()
    unauthorized, _ = _exchange(
        port,
        b"GET /patients?search=Zelda+Quill HTTP/1.1\r\nHost: 127.0.0.1\r\n"
        b"Connection: close\r\n\r\n",
        10,
    )

    assert unauthorized.startswith(b"HTTP/1.1 401")
    deadline = time.monotonic() + 10  # the access log is written after the answer
    while '"GET /patients" 401' not in log.read_text() and time.monotonic() < deadline:
        time.sleep(0.1)
    output = log.read_text()
    assert '"GET /patients" 401' in output  # the access log has the path...
    assert "Zelda" not in output  # ...and nothing of the query


def _log_lines_with(log: Path, text: str, count: int = 1) -> list[str]:
    """The log's lines that contain the text, once there are `count` of them (the access log
    is written after the answer)."""
    deadline = time.monotonic() + 10
    while True:
        lines = [line for line in log.read_text().splitlines() if text in line]
        if len(lines) >= count or time.monotonic() > deadline:
            return lines
        time.sleep(0.1)


def test_log_lines_carry_the_request_id_and_neither_the_query_nor_the_token(server):
    port, log = server
    token = "0123456789abcdef" * 4

    response, _ = _exchange(
        port,
        b"GET /patients?search=John HTTP/1.1\r\nHost: 127.0.0.1\r\n"
        + f"Authorization: Bearer {token}\r\n".encode()
        + b"X-Request-ID: trace-7.a_B\r\nConnection: close\r\n\r\n",
        10,
    )

    assert response.startswith(b"HTTP/1.1 401")
    assert b"\r\nx-request-id: trace-7.a_B\r\n" in response  # the front lowercases names
    lines = _log_lines_with(log, "[trace-7.a_B]", count=2)
    assert any(line.endswith("Unauthorized: /patients") for line in lines)  # Django's
    assert any(' api.access [trace-7.a_B] 127.0.0.1 "GET /patients" 401 ' in line for line in lines)
    output = log.read_text()
    assert "John" not in output
    assert token not in output


def test_a_request_without_an_id_gets_one_in_the_answer_and_the_access_log(server):
    port, log = server

    response, _ = _exchange(
        port,
        b"GET /?client=Zelda HTTP/1.1\r\nHost: 127.0.0.1\r\n"
        b"X-Request-ID: not/a safe id\r\nConnection: close\r\n\r\n",
        10,
    )

    request_id = re.search(rb"x-request-id: ([0-9a-f]{32})\r\n", response.lower()).group(1)
    lines = _log_lines_with(log, f"[{request_id.decode()}]")
    assert response.startswith(b"HTTP/1.1 200")
    assert '"GET /" 200' in lines[0]
    assert "Zelda" not in log.read_text()


def test_a_path_cannot_forge_a_line_of_the_access_log(server):
    port, log = server

    response, _ = _exchange(
        port,
        b"GET /nowhere%0a2026-01-01%2000:00:00,000%20INFO%20forged%1b%5b31m HTTP/1.1\r\n"
        b"Host: 127.0.0.1\r\nX-Request-ID: forgery-1\r\nConnection: close\r\n\r\n",
        10,
    )

    assert response.startswith(b"HTTP/1.1 404")
    lines = _log_lines_with(log, "[forgery-1]", count=2)
    assert any(
        '"GET /nowhere\\n2026-01-01 00:00:00,000 INFO forged\\x1b[31m" 404' in line
        for line in lines
    )
    output = log.read_text()
    assert "\x1b" not in output
    assert not any(
        line.startswith("2026-01-01 00:00:00,000 INFO forged") for line in output.splitlines()
    )
