"""`make bench-faults`: what clients see when others misbehave or the broker fails, measured
with the real parts (granian as `make run` serves, a redis-server, a Celery worker with beat).

1. Slow clients: 50 connections stuck in their headers and 50 stuck in their bodies, then 20
   requests from another client, timed; and when the stuck ones are cut off.
2. A frozen Redis (SIGSTOP: it accepts connections, never answers): how long POST /patients
   takes.
3. Recovery: notices held back while Redis was stopped, timed from Redis's return until the
   worker has sent them all (the sweep runs every NOTIFICATION_SWEEP_INTERVAL, 60 s).

A benchmark, not a test: the figures depend on the machine and what else it runs.
"""

import json
import os
import secrets
import socket
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from scripts.devstack import web_server_command  # noqa: E402
from scripts.redis_server import RedisServer, free_port  # noqa: E402


def exchange(port: int, request: bytes, timeout: float = 60) -> tuple[bytes, float]:
    started = time.monotonic()
    with socket.create_connection(("127.0.0.1", port), timeout=timeout) as sock:
        sock.sendall(request)
        received = b""
        while chunk := sock.recv(65536):
            received += chunk
    return received, time.monotonic() - started


def post_patient(port: int, token: str, n: int) -> tuple[bytes, float]:
    body = json.dumps(
        {"name": f"Bench{n} Example", "email": f"bench{n}@example.com", "phone": f"+1555600{n:04d}"}
    ).encode()
    return exchange(
        port,
        b"POST /patients HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
        + f"Authorization: Bearer {token}\r\nContent-Length: {len(body)}\r\n".encode()
        + b"Connection: close\r\n\r\n"
        + body,
    )


def slow_clients(port: int) -> None:
    held = []
    for _ in range(50):
        sock = socket.create_connection(("127.0.0.1", port))
        sock.sendall(b"GET /patients?search=x HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow: 1\r\n")
        held.append(("headers", sock, time.monotonic()))
    for _ in range(50):
        sock = socket.create_connection(("127.0.0.1", port))
        sock.sendall(
            b"POST /auth/login HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
            b"Content-Length: 100\r\n\r\n{}"
        )
        held.append(("body", sock, time.monotonic()))
    time.sleep(0.5)
    request = b"GET / HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n"
    timings = []
    for _ in range(20):
        response, elapsed = exchange(port, request)
        assert response.startswith(b"HTTP/1.1 200"), response[:80]
        timings.append(elapsed * 1000)
    print(
        f"slow clients: 20 GET / from another client while 50+50 are stuck: "
        f"median {statistics.median(timings):.1f} ms, max {max(timings):.1f} ms"
    )
    for kind in ("headers", "body"):
        closed, answers = [], set()
        for held_kind, sock, opened in held:
            if held_kind != kind:
                continue
            sock.settimeout(60)
            data = b""
            while chunk := sock.recv(65536):
                data += chunk
            closed.append(time.monotonic() - opened)
            answers.add(data.split(b"\r\n", 1)[0].decode() or "(closed, no answer)")
            sock.close()
        print(
            f"slow clients: the 50 stuck in their {kind} were closed after "
            f"{min(closed):.1f}-{max(closed):.1f} s: {', '.join(sorted(answers))}"
        )


def main() -> int:
    work = Path(tempfile.mkdtemp(prefix="bench-faults-"))
    redis = RedisServer(work / "redis")
    redis_url = redis.start()
    env = {
        **os.environ,
        "DATABASE_URL": f"sqlite:///{work / 'db.sqlite3'}",
        # Generated: a start-up without DJANGO_DEBUG refuses a weak key.
        "DJANGO_SECRET_KEY": secrets.token_urlsafe(50),
        # Plain HTTP on loopback, as `make run` serves.
        "DJANGO_HTTPS": "0",
        "REDIS_URL": redis_url,
    }
    manage = [sys.executable, str(ROOT / "manage.py")]
    subprocess.run([*manage, "migrate", "--noinput"], cwd=ROOT, env=env, check=True,
                   capture_output=True)  # fmt: skip
    subprocess.run([*manage, "setup_roles"], cwd=ROOT, env=env, check=True, capture_output=True)
    token = subprocess.run(
        [*manage, "issue_token", "bench", "--create", "--role", "clinician"],
        cwd=ROOT, env=env, check=True, capture_output=True, text=True,
    ).stdout.strip()  # fmt: skip
    port = free_port()
    server = subprocess.Popen(
        web_server_command(port),
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    worker = None
    try:
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            try:
                exchange(port, b"GET / HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n")
                break
            except OSError:
                time.sleep(0.1)
        slow_clients(port)

        response, _ = post_patient(port, token, 1)
        assert response.startswith(b"HTTP/1.1 201"), response[:200]
        redis.freeze()
        try:
            frozen = [post_patient(port, token, n) for n in (2, 3, 4)]
        finally:
            redis.thaw()
        statuses = {r.split(b"\r\n", 1)[0].decode() for r, _ in frozen}
        print(
            "frozen Redis: POST /patients took "
            + ", ".join(f"{elapsed:.2f} s" for _, elapsed in frozen)
            + f" ({', '.join(sorted(statuses))}; NOTIFICATION_PUBLISH_TIMEOUT 2 s)"
        )

        # The worker (with beat) runs through the outage, as in production.
        worker = subprocess.Popen(
            [sys.executable, "-m", "celery", "--app", "telehealth", "worker", "--beat",
             "--schedule", str(work / "beat"), "--concurrency", "1", "--loglevel", "INFO"],
            cwd=ROOT, env=env, stdout=(work / "worker.log").open("w"), stderr=subprocess.STDOUT,
        )  # fmt: skip
        time.sleep(8)
        redis_port = redis.port
        redis.stop()
        held_back = [post_patient(port, token, n)[0] for n in range(10, 15)]
        assert all(r.startswith(b"HTTP/1.1 201") for r in held_back)
        time.sleep(5)
        redis.start(port=redis_port)
        back = time.monotonic()
        with sqlite3.connect(work / "db.sqlite3") as db:
            while time.monotonic() - back < 300:
                sent = db.execute(
                    "SELECT COUNT(*) FROM notifications_notification WHERE status = 'sent'"
                ).fetchone()[0]
                if sent >= 9:  # every welcome: 1 before, 3 under the frozen Redis, 5 held back
                    break
                time.sleep(0.2)
        print(
            f"recovery: 5 notices held back by a stopped Redis were all sent "
            f"{time.monotonic() - back:.1f} s after it came back "
            f"(sweep every 60 s, NOTIFICATION_STALE_AFTER 5 min; worker log {work / 'worker.log'})"
        )
    finally:
        for process in (server, worker):
            if process is not None:
                process.terminate()
                process.wait(timeout=30)
        redis.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
