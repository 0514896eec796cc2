"""`make run`: prepare the database and run the whole service in the foreground.

Migrates, sets up the roles, collects the admin's static files, (re)sets the demo superuser,
then runs gunicorn, a Celery worker with beat and, unless REDIS_URL is set, a redis-server
of its own on a free port. Ctrl-C (or SIGTERM) stops them all; so does any one of them dying.
"""

import os
import secrets
import signal
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from kombu.utils.url import maybe_sanitize_url  # noqa: E402

from scripts.redis_server import RedisServer, RedisUnavailable, find_redis_server  # noqa: E402

# Keep in step with telehealth.settings.VAR_DIR, which reads the secret key generated here.
VAR = Path(os.environ.get("TELEHEALTH_VAR_DIR") or ROOT / "var")
# Paths only, never the query string: a search term can be a patient's name.
ACCESS_LOG_FORMAT = '%(h)s "%(m)s %(U)s" %(s)s %(B)s %(M)sms'


def say(message: str) -> None:
    print(f"[make run] {message}", flush=True)


def secret_key() -> None:
    """Generate this checkout's secret key once, readable by its owner only."""
    path = VAR / "secret-key"
    if not path.exists():
        path.touch(mode=0o600)
        path.write_text(secrets.token_urlsafe(50))


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


def main() -> int:
    VAR.mkdir(parents=True, exist_ok=True)
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "telehealth.settings")
    if not os.environ.get("DJANGO_SECRET_KEY"):
        secret_key()  # the settings read it from the file
    port = os.environ.setdefault("PORT", "8000")

    manage("migrate", "--noinput")
    manage("setup_roles")
    manage("collectstatic", "--noinput", "--verbosity", "0")
    demo = manage("demo_user", capture=True)

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

    base = f"http://127.0.0.1:{port}"
    print(demo, end="", flush=True)
    say(f"API:           {base}/patients")
    say(f"Browsable API: {base}/patients (log in at {base}/api-auth/login/)")
    say(f"Admin:         {base}/admin/")
    say("Try:           curl -H 'Authorization: Bearer <API token>' " + f"{base}/patients")
    say("Ctrl-C stops everything.")

    processes: list[subprocess.Popen] = []
    stopping = False

    def request_stop(signum, frame):
        nonlocal stopping
        stopping = True

    signal.signal(signal.SIGINT, request_stop)
    signal.signal(signal.SIGTERM, request_stop)
    try:
        processes.append(
            subprocess.Popen(
                [
                    sys.executable,
                    "-m",
                    "gunicorn",
                    "telehealth.wsgi:application",
                    "--bind",
                    f"127.0.0.1:{port}",
                    "--workers",
                    os.environ.get("WEB_CONCURRENCY", "2"),
                    "--access-logfile",
                    "-",
                    "--access-logformat",
                    ACCESS_LOG_FORMAT,
                    # One per user in ~/.gunicorn by default: two stacks would fight over it.
                    "--no-control-socket",
                ],
                cwd=ROOT,
            )
        )
        processes.append(
            subprocess.Popen(
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
            )
        )
        while not stopping:
            exited = [p for p in processes if p.poll() is not None]
            if exited:
                say(f"{' '.join(exited[0].args[2:4])} exited ({exited[0].returncode}); stopping")
                return 1
            time.sleep(0.2)
        say("stopping")
        return 0
    finally:
        stop_all(processes)
        if redis is not None:
            redis.stop()


if __name__ == "__main__":
    sys.exit(main())
