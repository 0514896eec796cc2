"""`make bench-profile`: where a request's time goes, in-process, for each path `make bench`
measures: milliseconds a call, the queries it makes and, with --profile, pyinstrument's tree.

It calls Django's WSGI handler directly (no server, no network, rate limits off), with the
production middleware and settings, on a copy of `make bench`'s seeded 10,000-patient
SQLite database (made on first use), or on the database --database-url names (never the
environment's DATABASE_URL: it issues a token and writes patients).

    .venv/bin/python bench/profile.py [--count 1000] [--paths one,first] [--profile]
"""

import argparse
import io
import json
import os
import secrets
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.run import WORK, Database, seed  # noqa: E402
from scripts.redis_server import RedisServer  # noqa: E402


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--count", type=int, default=1000)
    parser.add_argument("--paths", default="one,first,deep,post,put")
    parser.add_argument("--profile", action="store_true", help="print pyinstrument's tree")
    parser.add_argument("--database-url", help="postgres://...; default: SQLite under var/")
    args = parser.parse_args()

    database = Database(args.database_url)
    redis = RedisServer(WORK / "profile-redis")
    (WORK / "prometheus").mkdir(parents=True, exist_ok=True)
    seed(database, 10_000)
    url = database.run_copy("telehealth_bench_10000")
    os.environ.update(
        {
            "DJANGO_SETTINGS_MODULE": "telehealth.settings",
            "DJANGO_SECRET_KEY": secrets.token_urlsafe(50),
            "DJANGO_HTTPS": "0",
            "API_RATE_USER": "off",
            "LOG_LEVEL": "WARNING",
            "DATABASE_URL": url,
            "TELEHEALTH_VAR_DIR": str(WORK / "var"),
            "PROMETHEUS_MULTIPROC_DIR": str(WORK / "prometheus"),
            # A redis-server of its own takes the writes' delivery tasks; no worker runs.
            "REDIS_URL": redis.start(),
        }
    )
    import django

    django.setup()
    from django.core.handlers.wsgi import WSGIHandler
    from django.db import connection

    from accounts.services import token_issue
    from patients.models import Patient
    from patients.selectors import LIST_ORDERING

    _, token = token_issue(
        username=f"profile-{secrets.token_hex(3)}", create=True, role="clinician"
    )
    rows = Patient.objects.order_by(*LIST_ORDERING)
    one, put = rows[5000].pk, rows[3333].pk
    handler = WSGIHandler()
    counter = iter(range(10**9))

    def post_body() -> bytes:
        n = next(counter)
        return json.dumps(
            {"name": f"Profile {n}", "email": f"profile{n}@example.org",
             "phone": f"+1666{n:07d}"}
        ).encode()  # fmt: skip

    def put_body() -> bytes:
        return json.dumps({"name": f"Renamed {next(counter)}"}).encode()

    calls = {
        "one": ("GET", f"/patients/{one}", None),
        "first": ("GET", "/patients", None),
        "deep": ("GET", "/patients", None),  # the cursor is found below
        "post": ("POST", "/patients", post_body),
        "put": ("PUT", f"/patients/{put}", put_body),
    }

    def call(method: str, path: str, body=None) -> int:
        path, _, query = path.partition("?")
        data = body() if body else b""
        environ = {
            "REQUEST_METHOD": method, "PATH_INFO": path, "QUERY_STRING": query,
            "SERVER_NAME": "127.0.0.1", "SERVER_PORT": "8000", "REMOTE_ADDR": "127.0.0.1",
            "HTTP_HOST": "127.0.0.1:8000", "HTTP_AUTHORIZATION": f"Bearer {token}",
            "CONTENT_TYPE": "application/json", "CONTENT_LENGTH": str(len(data)),
            "wsgi.input": io.BytesIO(data), "wsgi.url_scheme": "http",
            "SERVER_PROTOCOL": "HTTP/1.1", "wsgi.errors": sys.stderr,
        }  # fmt: skip
        status = []
        response = handler(environ, lambda s, h, e=None: status.append((s, h)))
        b"".join(response)
        response.close()
        code = int(status[0][0][:3])
        if method == "GET" and path == "/patients" and not query:
            links = dict(status[0][1]).get("Link", "")
            next_url = links[1 : links.index(">")]
            calls["deep"] = ("GET", "/patients" + next_url.split("/patients", 1)[1], None)
        assert code < 300, (method, path, status[0][0])
        return code

    call("GET", "/patients")  # the next page's cursor stands in for a deep one
    print(f"in-process, {args.count} calls a path, {connection.vendor}, 10,000 patients")
    for name in args.paths.split(","):
        method, path, body = calls[name]
        for _ in range(min(200, args.count)):
            call(method, path, body)
        queries = statements(connection, call, method, path, body)
        started = time.perf_counter()
        for _ in range(args.count):
            call(method, path, body)
        per_call = (time.perf_counter() - started) / args.count * 1000
        print(f"{name:<6} {per_call:6.2f} ms a call, {len(queries)} statements")
        if args.profile:
            from pyinstrument import Profiler

            profiler = Profiler(interval=0.0001)
            with profiler:
                for _ in range(args.count):
                    call(method, path, body)
            print(profiler.output_text(color=False, show_all=False))
    redis.stop()
    return 0


def statements(connection, work, *args) -> list[str]:
    """The SQL statements that work(*args) sends through the connection."""
    sent = []

    def counted(execute, sql, *rest):
        sent.append(sql)
        return execute(sql, *rest)

    with connection.execute_wrapper(counted):
        work(*args)
    return sent


if __name__ == "__main__":
    sys.exit(main())
