"""`make run`: prepare the database and run the whole service in the foreground.

Migrates, sets up the roles, collects the admin's static files, (re)sets the demo superuser,
then runs the web server (granian), a Celery worker with beat and, unless REDIS_URL is set, a
redis-server of its own on a free port. The URLs and the demo credentials come last, once all
are ready. Ctrl-C (or SIGTERM) stops them all; so does any one of them dying.

It serves plain HTTP on loopback, so it sets DJANGO_HTTPS=0 (which production leaves on: it
redirects HTTP to HTTPS and marks cookies secure).
"""

import os
import secrets
import signal
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from kombu.utils.url import maybe_sanitize_url  # noqa: E402

from scripts.redis_server import RedisServer, RedisUnavailable, find_redis_server  # noqa: E402

# Keep in step with telehealth.settings.VAR_DIR, which reads the secret key generated here.
VAR = Path(os.environ.get("TELEHEALTH_VAR_DIR") or ROOT / "var")


def say(message: str) -> None:
    print(f"[make run] {message}", flush=True)


def secret_key() -> None:
    """Generate this checkout's secret key once, readable by its owner only."""
    path = VAR / "secret-key"
    if not path.exists():
        path.touch(mode=0o600)
        path.write_text(secrets.token_urlsafe(50))


def port_is_free(port: int) -> bool:
    """Whether the web server could listen on the port. SO_REUSEADDR, as servers set it, so
    a port that only has connections closing (TIME_WAIT) counts as free."""
    with socket.socket() as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True


def demo_credentials(output: str) -> dict[str, str]:
    """The demo user, password and token from `manage.py demo_user`'s output."""
    fields = dict(line.split(":", 1) for line in output.splitlines() if ":" in line)
    return {
        "user": fields["Demo superuser"].strip(),
        "password": fields["Password"].strip(),
        "token": fields["API token"].strip(),
    }


def fresh_metrics_dir(path: Path) -> Path:
    """prometheus_client's multiprocess directory for the web processes (and the worker), made
    empty: the files of an earlier run's processes would otherwise add to this run's counts.
    Exported as PROMETHEUS_MULTIPROC_DIR, which prometheus_client reads in every child."""
    path.mkdir(parents=True, exist_ok=True)
    for stale in path.glob("*.db"):
        stale.unlink()
    os.environ["PROMETHEUS_MULTIPROC_DIR"] = str(path)
    return path


def manage(*args: str, capture: bool = False) -> str:
    result = subprocess.run(
        [sys.executable, str(ROOT / "manage.py"), *args],
        cwd=ROOT,
        check=True,
        text=True,
        stdout=subprocess.PIPE if capture else None,
    )
    return result.stdout or ""


def stop_all(processes: list[subprocess.Popen]) -> None:
    for process in processes:
        if process.poll() is None:
            process.send_signal(signal.SIGTERM)
    deadline = time.monotonic() + 15
    for process in processes:
        try:
            process.wait(timeout=max(0.1, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def web_server_command(port: int) -> list[str]:
    """granian serving telehealth/asgi.py (api.serving reads each body, under its deadline,
    before Django runs). Slow headers are the server's to cut off, at WEB_HEADER_TIMEOUT."""
    header_timeout_ms = int(float(os.environ.get("WEB_HEADER_TIMEOUT", "10")) * 1000)
    return [
        sys.executable, "-m", "granian",
        "--interface", "asginl",  # ASGI without lifespan: the front needs none
        "--host", "127.0.0.1",
        "--port", str(port),
        "--workers", os.environ.get("WEB_CONCURRENCY", "2"),
        # HTTP/1 only: in "auto" mode a connection that sends nothing waits, with no timer,
        # to see which protocol it speaks.
        "--http", "1",
        "--http1-header-read-timeout", str(header_timeout_ms),
        "--loop", "uvloop",
        "--no-ws",
        "--respawn-failed-workers",
        "--workers-kill-timeout", "15",
        # No access log of granian's: api.serving writes it, with each request's id and
        # without its query string (a search term can be a patient's name).
        "--no-access-log",
        "telehealth.asgi:application",
    ]  # fmt: skip


def forward(process: subprocess.Popen, ready: threading.Event, marker: str) -> None:
    """Copy a child's output to ours, line by line, and note when it says it is ready."""
    for line in process.stdout:
        sys.stdout.write(line)
        sys.stdout.flush()
        if marker in line:
            ready.set()


def accepts(port: int) -> bool:
    """Whether something listens on the port (a probe that leaves no line in the access log)."""
    try:
        socket.create_connection(("127.0.0.1", port), timeout=1).close()
        return True
    except OSError:
        return False


def banner(base: str, demo: dict[str, str]) -> None:
    """The URLs and the demo credentials, last, so no start-up noise scrolls them away. The
    one place anything prints a token: this is a development command on loopback."""
    say(f"API:           {base}/patients")
    say(f"Browsable API: {base}/patients (log in at {base}/api-auth/login/)")
    say(f"Admin:         {base}/admin/")
    say(f"Demo login:    {demo['user']} / {demo['password']}")
    say(f"API token:     {demo['token']}")
    say(f"Try:           curl -H 'Authorization: Bearer {demo['token']}' {base}/patients")
    say("Plain HTTP on loopback, for development (DJANGO_HTTPS=0); production needs HTTPS.")
    say("Ctrl-C stops everything.")


def main() -> int:
    # var/ holds the secret key and, with the database, patient data: its owner's alone (the
    # settings set the same umask in every process that loads them).
    os.umask(0o077)
    VAR.mkdir(parents=True, exist_ok=True)
    VAR.chmod(0o700)
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "telehealth.settings")
    # Plain HTTP on loopback: no redirect to an https:// that nothing here answers, and
    # cookies the browser sends over HTTP (the admin's login needs them).
    os.environ["DJANGO_HTTPS"] = "0"
    port = int(os.environ.setdefault("PORT", "8000"))
    # Before anything changes: a second `make run` on a busy port must not reset the demo
    # password or revoke the running instance's token.
    if not port_is_free(port):
        say(f"port {port} is in use (another make run?): nothing was changed.")
        say("Stop the other one, or choose another port: make run PORT=8001")
        return 1
    if not os.environ.get("DJANGO_SECRET_KEY"):
        secret_key()  # the settings read it from the file

    manage("migrate", "--noinput")
    manage("setup_roles")
    manage("collectstatic", "--noinput", "--verbosity", "0")
    demo = demo_credentials(manage("demo_user", capture=True))

    redis = None
    if os.environ.get("REDIS_URL"):
        shown = maybe_sanitize_url(os.environ["REDIS_URL"])
        say(f"Redis: using REDIS_URL from the environment ({shown})")
    else:
        try:
            binary, origin = find_redis_server()
        except RedisUnavailable as exc:
            say(str(exc))
            return 1
        redis = RedisServer(VAR / "redis", binary=binary)
        os.environ["REDIS_URL"] = redis.start()
        say(f"Redis: {os.environ['REDIS_URL']} (redis-server {origin})")

    # After the manage.py commands above, whose counters nobody scrapes: the web server's
    # workers write theirs here, and /metrics sums them.
    fresh_metrics_dir(Path(os.environ.get("PROMETHEUS_MULTIPROC_DIR") or VAR / "prometheus"))

    processes: list[subprocess.Popen] = []
    stopping = False

    def request_stop(signum, frame):
        nonlocal stopping
        stopping = True

    signal.signal(signal.SIGINT, request_stop)
    signal.signal(signal.SIGTERM, request_stop)
    base = f"http://127.0.0.1:{port}"
    worker_ready = threading.Event()
    try:
        processes.append(subprocess.Popen(web_server_command(port), cwd=ROOT))
        worker = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "celery",
                "--app",
                "telehealth",
                "worker",
                "--beat",
                "--schedule",
                str(VAR / "celerybeat-schedule"),
                "--loglevel",
                "INFO",
                "--concurrency",
                os.environ.get("CELERY_CONCURRENCY", "2"),
            ],
            cwd=ROOT,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
        processes.append(worker)
        threading.Thread(
            target=forward, args=(worker, worker_ready, " ready."), daemon=True
        ).start()
        shown = False
        while not stopping:
            exited = [p for p in processes if p.poll() is not None]
            if exited:
                say(f"{' '.join(exited[0].args[2:4])} exited ({exited[0].returncode}); stopping")
                return 1
            if not shown and worker_ready.is_set() and accepts(port):
                banner(base, demo)
                shown = True
            time.sleep(0.2)
        say("stopping")
        return 0
    finally:
        stop_all(processes)
        if redis is not None:
            redis.stop()


if __name__ == "__main__":
    sys.exit(main())
