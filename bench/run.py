"""`make bench`: the API under load against the floor, in the same run, on the same machine.

For each size (10,000 and 1,000,000 patients by default) it serves the project as `make run`
does (granian with api.serving's front, a Celery worker with beat, a redis-server of its own,
DEBUG off) and, one after the other on the same port range, the floor (bench/floor.py: the
least work a WSGI server can do for the same paths) under each server setup it compares.
wrk (Debian's package) loads each path with 2 threads and 16 connections for DURATION
seconds after a warm-up. It prints one table per database and writes it as JSON under
bench/results/.

The project runs with its production settings but two, which the output names:
API_RATE_USER=off (one client at thousands of requests a second is a load test, not a user)
and DJANGO_HTTPS=0 (plain HTTP on loopback).

Environment:
    SIZES=10000,1000000   patients in the table (seeded once, kept under var/bench/ or as
                          PostgreSQL databases telehealth_bench_<size>, copied for each run)
    PATHS=one,first,deep,post,put,search,bulk   what to measure (search: the project only;
                          bulk: import_patients of BULK_ROWS new patients into an empty
                          database, the same file again, and export_patients of them)
    BULK_ROWS=100000      rows of the bulk import
    DATABASE_URL=postgres://...            measure on PostgreSQL (the floor too, by psycopg)
    DURATION=10  WARMUP=3                  seconds per path, and of each path's warm-up
    WEB_CONCURRENCY=2  WEB_THREADS=8       the project's web processes and threads
    FLOORS=granian-wsgi-2,gunicorn-sync-4  the floor's server setups (see FLOOR_SETUPS)
"""

import json
import os
import re
import secrets
import shutil
import signal
import socket
import sqlite3
import subprocess
import sys
import time
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from scripts.devstack import web_server_command  # noqa: E402
from scripts.redis_server import RedisServer, free_port  # noqa: E402

WORK = ROOT / "var" / "bench"
RESULTS = ROOT / "bench" / "results"
PYTHON = sys.executable
LOAD = ["wrk", "-t2", "-c16", "--latency", "-s", str(ROOT / "bench" / "load.lua")]
CHANGED_SETTINGS = {"API_RATE_USER": "off", "DJANGO_HTTPS": "0"}
ALL_PATHS = ("one", "first", "deep", "post", "put", "search", "bulk")
PATH_NAMES = {
    "one": "GET one patient",
    "first": "GET first page of 50",
    "deep": "GET a deep page",
    "post": "POST a patient",
    "put": "PUT a patient",
    "search": "GET ?search= a name fragment",
}
# How the floor is served. Each is a command for a port; the fastest one's figures count.
FLOOR_SETUPS = {
    "granian-wsgi-2": lambda port: [
        PYTHON, "-m", "granian", "--interface", "wsgi", "--host", "127.0.0.1",
        "--port", str(port), "--workers", "2", "--http", "1", "--no-ws", "--no-access-log",
        "--blocking-threads", "1", "bench.floor:application",
    ],
    "granian-wsgi-4": lambda port: [
        PYTHON, "-m", "granian", "--interface", "wsgi", "--host", "127.0.0.1",
        "--port", str(port), "--workers", "4", "--http", "1", "--no-ws", "--no-access-log",
        "--blocking-threads", "1", "bench.floor:application",
    ],
    "gunicorn-sync-4": lambda port: [
        PYTHON, "-m", "gunicorn", "--workers", "4", "--bind", f"127.0.0.1:{port}",
        "bench.floor:application",
    ],
}  # fmt: skip


def say(message: str) -> None:
    print(f"[bench] {message}", flush=True)


def env_list(name: str, default: str) -> list[str]:
    return [item.strip() for item in os.environ.get(name, default).split(",") if item.strip()]


class Database:
    """Where one size's data lives, seeded once and copied for each run: SQLite files under
    var/bench/, or PostgreSQL databases beside the one DATABASE_URL names."""

    def __init__(self, url: str | None):
        self.url = url
        self.kind = "postgresql" if url else "sqlite"

    def _pg_url(self, name: str) -> str:
        parts = urlsplit(self.url)
        return urlunsplit(parts._replace(path=f"/{name}"))

    def _pg_admin(self, sql: str) -> None:
        import psycopg

        with psycopg.connect(self._pg_url("postgres"), autocommit=True) as connection:
            connection.execute(sql)

    def _pg_exists(self, name: str) -> bool:
        import psycopg

        with psycopg.connect(self._pg_url("postgres"), autocommit=True) as connection:
            row = connection.execute("SELECT 1 FROM pg_database WHERE datname = %s", (name,))
            return row.fetchone() is not None

    def seeded(self, name: str) -> str:
        """The URL of the kept, seeded copy called `name` (made by the caller if absent)."""
        if self.kind == "sqlite":
            return f"sqlite:///{WORK / (name + '.sqlite3')}"
        return self._pg_url(name)

    def is_seeded(self, name: str) -> bool:
        if self.kind == "sqlite":
            return (WORK / f"{name}.done").exists()
        return self._pg_exists(name) and self._pg_exists(f"{name}_done")

    def mark_seeded(self, name: str) -> None:
        if self.kind == "sqlite":
            (WORK / f"{name}.done").touch()
        else:
            # An empty database as the mark: the seeded one holds only what the app made.
            self._pg_admin(f'CREATE DATABASE "{name}_done"')

    def forget(self, name: str) -> None:
        if self.kind == "sqlite":
            for suffix in (".sqlite3", ".sqlite3-wal", ".sqlite3-shm", ".done"):
                (WORK / f"{name}{suffix}").unlink(missing_ok=True)
        else:
            for database in (f"{name}_done", name):
                self._pg_admin(f'DROP DATABASE IF EXISTS "{database}" WITH (FORCE)')

    def run_copy(self, name: str) -> str:
        """A fresh copy of the seeded `name` for one run (its writes do not accumulate)."""
        if self.kind == "sqlite":
            source = sqlite3.connect(WORK / f"{name}.sqlite3")
            target = sqlite3.connect(WORK / f"{name}-run.sqlite3")
            source.backup(target)
            source.close()
            target.close()
            return f"sqlite:///{WORK / (name + '-run.sqlite3')}"
        self._pg_admin(f'DROP DATABASE IF EXISTS "{name}_run" WITH (FORCE)')
        self._pg_admin(f'CREATE DATABASE "{name}_run" TEMPLATE "{name}"')
        return self._pg_url(f"{name}_run")

    def floor_target(self, url: str) -> str:
        """What bench/floor.py takes: a file path for SQLite, the URL for PostgreSQL."""
        return url.removeprefix("sqlite:///") if self.kind == "sqlite" else url


def manage(env: dict, *args: str) -> str:
    done = subprocess.run(
        [PYTHON, "manage.py", *args], cwd=ROOT, env=env, capture_output=True, text=True
    )
    if done.returncode != 0:
        raise SystemExit(f"manage.py {' '.join(args)} failed:\n{done.stderr[-2000:]}")
    return done.stdout


def project_env(database_url: str, redis_url: str) -> dict:
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("DJANGO_", "API_RATE", "DATABASE_URL"))
    }
    env.update(
        {
            "DATABASE_URL": database_url,
            "REDIS_URL": redis_url,
            "DJANGO_SECRET_KEY": secrets.token_urlsafe(50),
            "DJANGO_DEBUG": "0",
            "TELEHEALTH_VAR_DIR": str(WORK / "var"),
            "PROMETHEUS_MULTIPROC_DIR": str(WORK / "prometheus"),
            **CHANGED_SETTINGS,
        }
    )
    return env


def seed(database: Database, size: int) -> None:
    """The project's and the floor's tables with `size` patients, made once and kept."""
    for name, make in ((f"telehealth_bench_{size}", _seed_project), (f"floor_{size}", _seed_floor)):
        if database.is_seeded(name):
            continue
        database.forget(name)
        if database.kind == "postgresql":
            database._pg_admin(f'CREATE DATABASE "{name}"')
        say(f"seeding {name} with {size:,} patients (once; kept for later runs)")
        started = time.monotonic()
        make(database.seeded(name), size)
        database.mark_seeded(name)
        say(f"seeded {name} in {time.monotonic() - started:.0f} s")


def _seed_project(url: str, size: int) -> None:
    env = project_env(url, "redis://127.0.0.1:1/0")  # nothing is published while seeding
    manage(env, "migrate", "--noinput")
    manage(env, "setup_roles")
    subprocess.run(
        [PYTHON, "manage.py", "seed_demo", "--patients", str(size)], cwd=ROOT, env=env, check=True
    )
    if url.startswith("sqlite"):
        with sqlite3.connect(url.removeprefix("sqlite:///")) as connection:
            connection.execute("PRAGMA wal_checkpoint(TRUNCATE)")
            connection.execute("ANALYZE")
    else:
        import psycopg

        with psycopg.connect(url, autocommit=True) as connection:
            connection.execute("VACUUM ANALYZE")


def _seed_floor(url: str, size: int) -> None:
    target = url.removeprefix("sqlite:///") if url.startswith("sqlite") else url
    env = {**os.environ, "FLOOR_DATABASE": target}
    subprocess.run([PYTHON, "bench/floor.py", "--init", str(size)], cwd=ROOT, env=env, check=True,
                   capture_output=True)  # fmt: skip


# Ids and the deep page's cursor, found by the project's own code (DRF's cursor encoding).
TARGETS = """
import json
from urllib.parse import parse_qs, urlsplit
from rest_framework.pagination import Cursor
from api.pagination import LinkHeaderCursorPagination
from patients.models import Patient
from patients.selectors import LIST_ORDERING
rows = Patient.objects.order_by(*LIST_ORDERING)
size = rows.count()
pager = LinkHeaderCursorPagination()
pager.base_url = "http://localhost/patients"
position = str(rows[int(size * 0.9) - 1].created_at)
url = pager.encode_cursor(Cursor(offset=0, reverse=False, position=position))
print(json.dumps({
    "one": str(rows[size // 2].pk),
    "put": str(rows[size // 3].pk),
    "deep_cursor": parse_qs(urlsplit(url).query)["cursor"][0],
}))
"""


def wait_for_port(port: int, process: subprocess.Popen, seconds: float = 60) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise SystemExit(f"{process.args[:4]} exited with {process.returncode}")
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.5).close()
            return
        except OSError:
            time.sleep(0.1)
    raise SystemExit(f"nothing answered on port {port} after {seconds} s")


def stop(processes: list[subprocess.Popen]) -> None:
    for process in processes:
        if process.poll() is None:
            process.send_signal(signal.SIGTERM)
    for process in processes:
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


RESULT = re.compile(
    r"RESULT rps=(?P<rps>[\d.]+) p50_ms=(?P<p50>[\d.]+) p99_ms=(?P<p99>[\d.]+) "
    r"non2xx=(?P<non2xx>\d+) errors=(?P<errors>\d+)"
)


def load(port: int, method: str, path: str, auth: str, seconds: int) -> dict:
    env = {**os.environ, "METHOD": method, "TPATH": path, "AUTH": auth}
    done = subprocess.run(
        [*LOAD, f"-d{seconds}s", f"http://127.0.0.1:{port}"],
        env=env, capture_output=True, text=True, timeout=seconds + 60,
    )  # fmt: skip
    match = RESULT.search(done.stdout)
    if match is None:
        raise SystemExit(f"wrk printed no result:\n{done.stdout}\n{done.stderr}")
    return {
        "rps": float(match["rps"]),
        "p50_ms": float(match["p50"]),
        "p99_ms": float(match["p99"]),
        "non2xx": int(match["non2xx"]),
        "errors": int(match["errors"]),
    }


def measure(port: int, requests: dict, auth: str, paths: list[str]) -> dict:
    duration, warmup = int(os.environ.get("DURATION", "10")), int(os.environ.get("WARMUP", "3"))
    figures = {}
    for name in paths:
        if name not in requests:
            continue
        method, path = requests[name]
        if warmup:
            load(port, method, path, auth, warmup)
        figures[name] = load(port, method, path, auth, duration)
        shown = figures[name]
        say(
            f"  {PATH_NAMES[name]:<30} {shown['rps']:>9.1f} req/s  p50 {shown['p50_ms']:.2f} ms"
            f"  p99 {shown['p99_ms']:.2f} ms  non-2xx {shown['non2xx']}  errors {shown['errors']}"
        )
    return figures


def the_five(one: str, put: str, deep_query: str) -> dict:
    """The measured paths, as (method, path): the same for the project and the floor but the
    ids and the deep page's query (a cursor, or the floor's row number)."""
    return {
        "one": ("GET", f"/patients/{one}"),
        "first": ("GET", "/patients"),
        "deep": ("GET", f"/patients?{deep_query}"),
        "post": ("POST", "/patients"),
        "put": ("PUT", f"/patients/{put}"),
    }


def bench_project(database: Database, size: int, redis_url: str, paths: list[str]) -> dict:
    url = database.run_copy(f"telehealth_bench_{size}")
    env = project_env(url, redis_url)
    shutil.rmtree(WORK / "prometheus", ignore_errors=True)
    (WORK / "prometheus").mkdir(parents=True)
    token = manage(env, "issue_token", "bench", "--create", "--role", "clinician").strip()
    targets = json.loads(manage(env, "shell", "--command", TARGETS).strip().splitlines()[-1])
    port = free_port()
    logs = (WORK / f"project-{database.kind}-{size}.log").open("w")
    worker = subprocess.Popen(
        [PYTHON, "-m", "celery", "--app", "telehealth", "worker", "--beat",
         "--schedule", str(WORK / "celerybeat-schedule"), "--loglevel", "WARNING",
         "--concurrency", os.environ.get("CELERY_CONCURRENCY", "2")],
        cwd=ROOT, env=env, stdout=logs, stderr=subprocess.STDOUT,
    )  # fmt: skip
    server = subprocess.Popen(
        web_server_command(port), cwd=ROOT, env=env, stdout=logs, stderr=subprocess.STDOUT
    )
    try:
        wait_for_port(port, server)
        requests = {
            **the_five(targets["one"], targets["put"], f"cursor={targets['deep_cursor']}"),
            "search": ("GET", "/patients?search=ana"),
        }
        say(f"project (granian, {env.get('WEB_CONCURRENCY', '2')} workers), {size:,} patients:")
        return measure(port, requests, f"Bearer {token}", paths)
    finally:
        stop([server, worker])
        logs.close()


def bench_floor(database: Database, size: int, redis_url: str, setup: str, paths: list[str]):
    url = database.run_copy(f"floor_{size}")
    token = secrets.token_hex(16)
    env = {
        **os.environ,
        "FLOOR_DATABASE": database.floor_target(url),
        "FLOOR_TOKEN": token,
        "REDIS_URL": redis_url,
    }
    target = database.floor_target(url)
    if database.kind == "sqlite":
        connection = sqlite3.connect(target)
    else:
        import psycopg

        connection = psycopg.connect(target)
    one, put = (
        connection.execute(f"SELECT id FROM floor_patient WHERE seq = {seq}").fetchone()[0]
        for seq in (size // 2 + 1, size // 3 + 1)
    )
    connection.close()
    port = free_port()
    logs = (WORK / f"floor-{setup}.log").open("w")
    server = subprocess.Popen(
        FLOOR_SETUPS[setup](port), cwd=ROOT, env=env, stdout=logs, stderr=subprocess.STDOUT
    )
    try:
        wait_for_port(port, server)
        requests = the_five(one, put, f"after={int(size * 0.9)}")
        say(f"floor ({setup}), {size:,} patients:")
        return measure(port, requests, f"Bearer {token}", paths)
    finally:
        stop([server])
        logs.close()


def timed(env: dict, *args: str) -> dict:
    """Runs manage.py with `args`; its wall time and the last line it printed."""
    started = time.monotonic()
    process = subprocess.Popen(
        [PYTHON, "manage.py", *args], cwd=ROOT, env=env, stdout=subprocess.PIPE,
        stderr=subprocess.PIPE, text=True,
    )  # fmt: skip
    out, err = process.communicate()
    seconds = time.monotonic() - started
    if process.returncode != 0:
        raise SystemExit(f"manage.py {' '.join(args)} failed:\n{err[-2000:]}")
    return {"seconds": round(seconds, 2), "summary": out.strip().splitlines()[-1]}


def bulk_file(rows: int) -> Path:
    """A CSV of `rows` made-up patients that no seeded database holds (kept for later runs)."""
    path = WORK / f"bulk-{rows}.csv"
    if not path.exists():
        with path.open("w", newline="", encoding="utf-8") as file:
            file.write("name,phone,email,preferred_channel,birth_date\n")
            for i in range(rows):
                channel = "email" if i % 4 == 0 else "sms"
                born = f"{1930 + i % 90}-{1 + i % 12:02d}-{1 + i % 28:02d}"
                file.write(f"Bulk Patient {i},+1666{i:07d},bulk{i}@example.org,{channel},{born}\n")
    return path


def bench_bulk(database: Database, rows: int) -> dict:
    """import_patients into an empty database, the same file again (every row already
    there), and export_patients of what it made, as CSV and NDJSON."""
    name = "telehealth_bench_bulk"
    database.forget(name)
    if database.kind == "postgresql":
        database._pg_admin(f'CREATE DATABASE "{name}"')
    env = project_env(database.seeded(name), "redis://127.0.0.1:1/0")  # --notify is off
    manage(env, "migrate", "--noinput")
    source = bulk_file(rows)
    figures = {"rows": rows}
    for step in ("import", "import again"):
        report = WORK / f"bulk-report-{step.replace(' ', '-')}.csv"
        report.unlink(missing_ok=True)
        figures[step] = timed(
            env, "import_patients", str(source), "--no-progress", "--report", str(report)
        )
    for file_format in ("csv", "ndjson"):
        output = WORK / f"bulk-export.{file_format}"
        output.unlink(missing_ok=True)
        figures[f"export {file_format}"] = timed(
            env, "export_patients", "--format", file_format, "--output", str(output),
            "--no-progress",
        )  # fmt: skip
        output.unlink()
    for step in ("import", "import again", "export csv", "export ndjson"):
        figures[step]["rows_per_second"] = round(rows / figures[step]["seconds"])
        say(f"  {step:<14} {rows:,} rows in {figures[step]['seconds']:.1f} s "
            f"({figures[step]['rows_per_second']:,} rows/s)")  # fmt: skip
    database.forget(name)
    return figures


def table(results: dict) -> str:
    columns = ("path", "size", "project", "floor", "ratio", "p50", "p99", "floor p50",
               "floor p99", "non-2xx", "floor setup")  # fmt: skip
    rows = []
    for size, by_path in results["sizes"].items():
        for name, row in by_path.items():
            project, floor = row["project"], row.get("floor")
            rows.append(
                (
                    PATH_NAMES[name],
                    f"{int(size):,}",
                    f"{project['rps']:.0f}",
                    f"{floor['rps']:.0f}" if floor else "-",
                    f"{project['rps'] / floor['rps']:.3f}" if floor else "-",
                    f"{project['p50_ms']:.1f} ms",
                    f"{project['p99_ms']:.1f} ms",
                    f"{floor['p50_ms']:.2f} ms" if floor else "-",
                    f"{floor['p99_ms']:.2f} ms" if floor else "-",
                    str(project["non2xx"] + project["errors"]),
                    row.get("floor_setup", "-"),
                )
            )
    # A Markdown table, so that docs/benchmarks.md can take it as printed.
    lines = []
    if rows:
        lines += ["| " + " | ".join(columns) + " |", "|" + "---|" * len(columns)]
        lines += ["| " + " | ".join(row) + " |" for row in rows] + [""]
    if "bulk" in results:
        bulk = results["bulk"]
        lines += ["| bulk step | rows | seconds | rows/s |", "|---|---|---|---|"]
        lines += [
            f"| {step} | {bulk['rows']:,} | {bulk[step]['seconds']:.1f} "
            f"| {bulk[step]['rows_per_second']:,} |"
            for step in ("import", "import again", "export csv", "export ndjson")
        ]
    return "\n".join(lines)


def main() -> int:
    if shutil.which("wrk") is None:
        print("make bench needs wrk: apt-get install wrk", file=sys.stderr)
        return 1
    os.umask(0o077)
    (WORK / "prometheus").mkdir(parents=True, exist_ok=True)
    database = Database(os.environ.get("DATABASE_URL") or None)
    sizes = [int(size.replace("_", "")) for size in env_list("SIZES", "10000,1000000")]
    paths = [path for path in env_list("PATHS", ",".join(ALL_PATHS)) if path in ALL_PATHS]
    setups = env_list("FLOORS", "granian-wsgi-2,gunicorn-sync-4")
    say(
        "production settings but "
        + ", ".join(f"{key}={value}" for key, value in CHANGED_SETTINGS.items())
        + f"; database {database.kind}; wrk -t2 -c16, {os.environ.get('DURATION', '10')} s a path"
    )
    results = {
        "when": datetime.now(UTC).isoformat(timespec="seconds"),
        "database": database.kind,
        "machine": f"{os.cpu_count()} cores, {_memory()}",
        "changed_settings": CHANGED_SETTINGS,
        "sizes": {},
    }
    redis = RedisServer(WORK / "redis")
    redis_url = redis.start()
    try:
        for size in sizes if set(paths) - {"bulk"} else []:
            seed(database, size)
            project = bench_project(database, size, redis_url, paths)
            floors = {
                setup: bench_floor(database, size, redis_url, setup, paths) for setup in setups
            }
            by_path = {}
            for name, figures in project.items():
                row = {
                    "project": figures,
                    "floors": {s: f[name] for s, f in floors.items() if name in f},
                }
                if row["floors"]:
                    best = max(row["floors"], key=lambda s: row["floors"][s]["rps"])
                    row["floor_setup"], row["floor"] = best, row["floors"][best]
                by_path[name] = row
            results["sizes"][str(size)] = by_path
        if "bulk" in paths:
            rows = int(os.environ.get("BULK_ROWS", "100000").replace("_", ""))
            say(f"bulk import and export, {rows:,} rows, {database.kind}:")
            results["bulk"] = bench_bulk(database, rows)
    finally:
        redis.stop()
    print()
    print(table(results))
    RESULTS.mkdir(exist_ok=True)
    out = RESULTS / f"{results['when'][:19].replace(':', '')}-{database.kind}.json"
    out.write_text(json.dumps(results, indent=2) + "\n")
    say(f"written to {out.relative_to(ROOT)}")
    return 0


def _memory() -> str:
    try:
        kb = int(Path("/proc/meminfo").read_text().split()[1])
        return f"{kb / 1024 / 1024:.0f} GiB"
    except (OSError, ValueError, IndexError):
        return "unknown memory"


if __name__ == "__main__":
    sys.exit(main())
