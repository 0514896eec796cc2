"""`make run`'s stack as a user gets it: the real processes, over real HTTP, then Ctrl-C."""

import contextlib
import json
import os
import re
import signal
import socket
import sqlite3
import subprocess
import sys
import time
import urllib.request
from http import HTTPStatus
from pathlib import Path

import pytest

from scripts.devstack import accepts
from scripts.redis_server import free_port

ROOT = Path(__file__).resolve().parents[1]

pytestmark = pytest.mark.slow


def _request(url, method="GET", token=None, body=None, raw_headers=None):
    headers = {"Content-Type": "application/json"}
    if token:
        headers["Authorization"] = f"Bearer {token}"
    data = json.dumps(body).encode() if body is not None else None
    request = urllib.request.Request(url, data=data, method=method, headers=headers)
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status, response.headers, response.read()
    except urllib.error.HTTPError as error:
        return error.code, error.headers, error.read()


def _wait_for_line(log: Path, marker: str, timeout: float = 30) -> str:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        for line in log.read_text().splitlines():
            if marker in line:
                return line
        time.sleep(0.1)
    raise AssertionError(f"no {marker!r} in the output of make run")


def _raw(port: int, payload: bytes) -> bytes:
    with socket.create_connection(("127.0.0.1", port), timeout=10) as sock:
        sock.sendall(payload)
        chunks = []
        while chunk := sock.recv(65536):
            chunks.append(chunk)
    return b"".join(chunks)


def _stack_env(tmp_path: Path, port: int) -> dict:
    """What `make run` sees: its own files under tmp_path, no Redis or secret key given."""
    env = {
        **os.environ,
        "PORT": str(port),
        "TELEHEALTH_VAR_DIR": str(tmp_path / "var"),
        "DATABASE_URL": f"sqlite:///{tmp_path / 'db.sqlite3'}",
        "DJANGO_STATIC_ROOT": str(tmp_path / "static"),
        "WEB_CONCURRENCY": "1",
        "CELERY_CONCURRENCY": "1",
    }
    env.pop("REDIS_URL", None)
    env.pop("DJANGO_SECRET_KEY", None)
    return env


@pytest.fixture
def stack(tmp_path):
    """scripts/devstack.py (what `make run` runs) on a free port, with its own files."""
    port = free_port()
    env = _stack_env(tmp_path, port)
    log = tmp_path / "stack.log"
    with log.open("w") as out:
        process = subprocess.Popen(
            [sys.executable, str(ROOT / "scripts" / "devstack.py")],
            cwd=ROOT,
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # so a failed test can end the whole stack
        )
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline and process.poll() is None:
        text = log.read_text()
        if "Ctrl-C stops everything" in text and " ready." in text and accepts(port):
            break
        time.sleep(0.2)
    try:
        assert process.poll() is None, log.read_text()
        yield process, port, log
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGKILL)  # what is left of the stack, if anything
        process.wait()


def test_make_run_serves_the_api_admin_css_and_stops_everything_on_ctrl_c(stack, tmp_path):
    process, port, log = stack
    output = log.read_text()
    token = re.search(r"API token:\s+(\w+)", output).group(1)
    redis_port = int(re.search(r"Redis: redis://127\.0\.0\.1:(\d+)/0", output).group(1))
    base = f"http://127.0.0.1:{port}"

    created = _request(
        f"{base}/patients",
        "POST",
        token,
        {"name": "John Doe", "email": "john@example.com", "phone": "1234567890"},
    )
    patient_id = json.loads(created[2])["patient_id"]
    fetched = _request(f"{base}/patients/{patient_id}/", token=token)
    unauthorized = _request(f"{base}/patients")
    login_page = _request(f"{base}/admin/login/")
    stylesheet = re.search(rb'href="(/static/admin/css/base[^"]*\.css)"', login_page[2]).group(1)
    css = _request(base + stylesheet.decode())
    not_utf8 = _raw(
        port,
        b"GET /patients HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer \xff\xfe\r\n"
        b"Connection: close\r\n\r\n",
    )

    assert created[0] == HTTPStatus.CREATED
    assert fetched[0] == HTTPStatus.OK
    assert json.loads(fetched[2])["email"] == "john@example.com"
    assert unauthorized[0] == HTTPStatus.UNAUTHORIZED
    assert json.loads(unauthorized[2]) == {"message": "Unauthorized"}
    assert css[0] == HTTPStatus.OK
    assert css[1]["Content-Type"].startswith("text/css")
    # Static files may be cached; what carries patient data may not.
    assert "no-store" not in css[1].get("Cache-Control", "")
    assert fetched[1]["Cache-Control"] == "no-store"
    assert re.fullmatch(r"[0-9a-f]{32}", fetched[1]["X-Request-ID"])
    assert not_utf8.startswith(b"HTTP/1.1 401")
    assert not_utf8.endswith(b'{"message":"Unauthorized"}')
    assert re.search(r"celery@\S+ ready\.", output)
    # The worker delivered the welcome SMS to the console: the first name, never the number.
    welcome = _wait_for_line(log, "[sms] notification")
    assert "John" in welcome
    assert "1234567890" not in welcome
    # Patient details stay out of the logs (the access log has paths only).
    assert "john@example.com" not in log.read_text()
    # The access log (api.serving's) has the request's id.
    assert f'[{fetched[1]["X-Request-ID"]}] 127.0.0.1 "GET /patients/{patient_id}/" 200' in (
        log.read_text()
    )
    # Plain HTTP on loopback, and it says so.
    assert "Plain HTTP on loopback" in output
    # The database, the generated key and var/ are the owner's alone.
    var = tmp_path / "var"
    assert (var.stat().st_mode & 0o777, (var / "secret-key").stat().st_mode & 0o777) == (
        0o700,
        0o600,
    )
    assert (tmp_path / "db.sqlite3").stat().st_mode & 0o777 == 0o600

    process.send_signal(signal.SIGINT)
    process.wait(timeout=60)

    assert not accepts(port)
    assert not accepts(redis_port)


def _demo_account(database: Path) -> tuple:
    with sqlite3.connect(database) as db:
        password = db.execute("SELECT password FROM auth_user WHERE username = 'demo'").fetchone()
        tokens = db.execute("SELECT digest FROM knox_authtoken ORDER BY digest").fetchall()
    return password, tokens


def test_a_second_make_run_on_a_busy_port_stops_before_changing_anything(tmp_path):
    port = free_port()
    # The test run's key (pytest.ini): make run has not generated one yet.
    env = {**_stack_env(tmp_path, port), "DJANGO_SECRET_KEY": os.environ["DJANGO_SECRET_KEY"]}
    manage = [sys.executable, str(ROOT / "manage.py")]
    subprocess.run([*manage, "migrate", "--noinput"], cwd=ROOT, env=env, check=True,
                   capture_output=True)  # fmt: skip
    subprocess.run([*manage, "demo_user"], cwd=ROOT, env=env, check=True, capture_output=True)
    before = _demo_account(tmp_path / "db.sqlite3")

    with socket.socket() as running:  # the first make run's web server
        running.bind(("127.0.0.1", port))
        running.listen()
        second = subprocess.run(
            [sys.executable, str(ROOT / "scripts" / "devstack.py")],
            cwd=ROOT, env=env, capture_output=True, text=True, timeout=120,
        )  # fmt: skip

    assert second.returncode != 0
    assert f"port {port} is in use" in second.stdout
    assert "nothing was changed" in second.stdout
    assert _demo_account(tmp_path / "db.sqlite3") == before  # same password, token not revoked
    assert before[0] is not None
    assert before[1]


def test_the_credentials_come_last_with_the_real_token_in_the_curl_line(stack):
    _, port, log = stack
    lines = [line for line in log.read_text().splitlines() if line.strip()]
    banner_start = next(i for i, line in enumerate(lines) if "[make run] API:" in line)
    token = re.search(r"API token:\s+(\w+)", log.read_text()).group(1)

    assert any(" ready." in line for line in lines[:banner_start])  # after the worker's noise
    assert f"curl -H 'Authorization: Bearer {token}' http://127.0.0.1:{port}/patients" in (
        log.read_text()
    )
    assert sum(token in line for line in lines) == 2  # the token line and the curl line only
