"""`make bench-notifications`: how fast one Celery worker drains the outbox.

Makes a fresh SQLite database with N pending notifications (10,000 by default), enqueues a
delivery task for each on a redis-server of its own, then starts one worker (the console
backends; its output goes to a file) and times it from the first delivery until every row
is `sent`, so the worker's start-up is left out.
Prints notifications per second. A benchmark, not a test: figures vary between machines.

    .venv/bin/python bench/notifications.py [--count 10000] [--concurrency 2]
"""

import argparse
import os
import secrets
import shutil
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
WORK = ROOT / "var" / "bench-notifications"
sys.path.insert(0, str(ROOT))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--count", type=int, default=10_000)
    parser.add_argument("--concurrency", type=int, default=os.cpu_count() or 2)
    parser.add_argument("worker_args", nargs="*", help="more `celery worker` options")
    args = parser.parse_args()

    shutil.rmtree(WORK, ignore_errors=True)
    WORK.mkdir(parents=True)
    from scripts.redis_server import RedisServer

    redis_server = RedisServer(WORK / "redis")
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "telehealth.settings",
        # Generated: a start-up without DJANGO_DEBUG refuses a weak key.
        "DJANGO_SECRET_KEY": os.environ.get("DJANGO_SECRET_KEY") or secrets.token_urlsafe(50),
        "DATABASE_URL": f"sqlite:///{WORK / 'bench.sqlite3'}",
        "REDIS_URL": redis_server.start(),
        "SMS_BACKEND": "console",
        "EMAIL_HOST": "",
        "EMAIL_BACKEND": "notifications.backends.email.ConsoleEmailBackend",
        "LOG_LEVEL": "WARNING",
    }
    os.environ.update(env)
    worker = None
    try:
        subprocess.run(
            [sys.executable, "manage.py", "migrate", "--noinput", "-v0"], cwd=ROOT, check=True
        )
        ids = _fill_outbox(args.count)
        print(f"{len(ids)} pending notifications enqueued; starting one worker", flush=True)
        log = WORK / "worker.log"
        with log.open("w") as out:
            worker = subprocess.Popen(
                [
                    sys.executable, "-m", "celery", "--app", "telehealth", "worker",
                    "--concurrency", str(args.concurrency), "--loglevel", "WARNING",
                    "--without-mingle", "--without-gossip", "--without-heartbeat",
                    *args.worker_args,
                ],
                cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT,
            )  # fmt: skip
        started, finished = _time_drain(len(ids))
    finally:
        if worker is not None:
            worker.terminate()
            worker.wait()
        redis_server.stop()
    seconds = finished - started
    print(
        f"RESULT notifications={len(ids)} seconds={seconds:.2f} "
        f"per_second={len(ids) / seconds:.0f} worker_concurrency={args.concurrency}"
    )
    return 0


def _fill_outbox(count: int) -> list[str]:
    import django

    django.setup()
    from django.db import transaction

    from notifications.models import Notification
    from notifications.tasks import notification_deliver_task
    from patients.models import Patient

    with transaction.atomic():
        patients = Patient.objects.bulk_create(
            Patient(name=f"Bench{n} Patient", email=f"bench{n}@example.com", phone=f"+1555{n:07d}")
            for n in range(count)
        )
        notifications = Notification.objects.bulk_create(
            Notification(patient=p, channel="sms", kind="welcome", recipient=p.phone)
            for p in patients
        )
    ids = [str(n.pk) for n in notifications]
    with notification_deliver_task.app.producer_or_acquire() as producer:
        for notification_id in ids:
            notification_deliver_task.apply_async(args=[notification_id], producer=producer)
    return ids


def _time_drain(count: int) -> tuple[float, float]:
    """From the first delivery to the last: worker start-up is not throughput."""
    from notifications.models import Notification

    sent = Notification.objects.filter(status=Notification.Status.SENT)
    deadline = time.monotonic() + 600
    while not sent.exists():
        if time.monotonic() > deadline:
            raise SystemExit("no notification was delivered within 10 minutes")
        time.sleep(0.01)
    started = time.monotonic()
    while sent.count() < count:
        if time.monotonic() > deadline:
            raise SystemExit(f"only {sent.count()} of {count} delivered within 10 minutes")
        time.sleep(0.1)
    return started, time.monotonic()


if __name__ == "__main__":
    sys.exit(main())
