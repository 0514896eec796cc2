"""Fixtures for delivery: the fake gateway and SMTP server on loopback, and real Celery worker
processes over the run's own redis-server, sharing the test database."""

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import redis
from django.db import connection

from notifications.tests.factories import NotificationFactory
from notifications.tests.fakes import SMS_ACCOUNT, SMS_SECRET, SmsGateway, SmtpServer
from patients.tests.factories import ANN, PatientFactory

ROOT = Path(__file__).resolve().parents[2]


def wait_until(predicate, timeout: float = 30, interval: float = 0.05, what: str = "condition"):
    """Poll until predicate() is truthy; fail the test (not hang) after `timeout` seconds."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(interval)
    pytest.fail(f"timed out after {timeout}s waiting for {what}")


@pytest.fixture
def queue_length(test_redis):
    """How many task messages wait in the run's own broker (no worker consumes them here)."""
    broker = redis.Redis.from_url(test_redis.url)
    return lambda: broker.llen("celery")


@pytest.fixture
def sms_gateway(settings):
    gateway = SmsGateway()
    settings.SMS_BACKEND = "twilio"
    settings.SMS_GATEWAY_URL = gateway.url
    settings.SMS_ACCOUNT_SID = SMS_ACCOUNT
    settings.SMS_AUTH_TOKEN = SMS_SECRET
    settings.SMS_FROM = "+15550000000"
    yield gateway
    gateway.close()


@pytest.fixture
def smtp_server(settings):
    server = SmtpServer()
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST = "127.0.0.1"
    settings.EMAIL_PORT = server.port
    settings.EMAIL_USE_TLS = False
    yield server
    server.close()


def _database_url() -> str:
    """The test database, as a URL a worker process can open."""
    db = connection.settings_dict
    if connection.vendor == "sqlite":
        return f"sqlite:///{db['NAME']}"
    credentials = db["USER"] + (f":{db['PASSWORD']}" if db["PASSWORD"] else "")
    return f"postgres://{credentials}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{db['NAME']}"


class Worker:
    """A `celery worker` process (with its pool children), in a process group of its own."""

    def __init__(self, name: str, env: dict, log: Path, concurrency: int, beat: bool):
        command = [
            sys.executable, "-m", "celery", "--app", "telehealth", "worker",
            "--hostname", f"{name}@%h",
            "--concurrency", str(concurrency),
            "--loglevel", "INFO",
            "--without-mingle", "--without-gossip", "--without-heartbeat",
        ]  # fmt: skip
        if beat:
            command += ["--beat", "--schedule", str(log.with_suffix(".beat"))]
        self.log = log
        with log.open("a") as out:
            self.process = subprocess.Popen(
                command, cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT,
                start_new_session=True,
            )  # fmt: skip
        wait_until(
            lambda: " ready." in log.read_text() or self.process.poll() is not None,
            timeout=60,
            what=f"worker {name} to start",
        )
        assert self.process.poll() is None, log.read_text()[-3000:]

    def kill(self) -> None:
        """SIGKILL the whole worker (main process, pool, beat): no chance to clean up."""
        os.killpg(self.process.pid, signal.SIGKILL)
        self.process.wait()

    def stop(self) -> None:
        if self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.kill()


@pytest.fixture
def start_worker(transactional_db, test_redis, tmp_path, settings):
    """Start real Celery workers on the test database and broker, configured like the
    in-process settings (gateway, SMTP), with short retry and sweep delays."""
    redis.Redis.from_url(test_redis.url).flushdb()  # no messages left from earlier tests
    workers = []

    def start(name="w1", concurrency=1, beat=False, **env) -> Worker:
        worker_env = {
            **os.environ,
            "DATABASE_URL": _database_url(),
            "REDIS_URL": test_redis.url,
            "DJANGO_SECRET_KEY": os.environ["DJANGO_SECRET_KEY"],
            "SMS_BACKEND": settings.SMS_BACKEND,
            "SMS_GATEWAY_URL": settings.SMS_GATEWAY_URL,
            "SMS_ACCOUNT_SID": settings.SMS_ACCOUNT_SID,
            "SMS_AUTH_TOKEN": settings.SMS_AUTH_TOKEN,
            "SMS_FROM": settings.SMS_FROM,
            "EMAIL_HOST": settings.EMAIL_HOST,
            "EMAIL_PORT": str(settings.EMAIL_PORT),
            "NOTIFICATION_RETRY_BASE_DELAY": "0.2",
            "NOTIFICATION_RETRY_MAX_DELAY": "2",
            "NOTIFICATION_STALE_AFTER": "2s",
            "NOTIFICATION_SWEEP_INTERVAL": "1",
            "SMS_TIMEOUT": "1.5",
            "EMAIL_TIMEOUT": "1.5",
            **env,
        }
        worker = Worker(name, worker_env, tmp_path / f"{name}.log", concurrency, beat)
        workers.append(worker)
        return worker

    yield start
    for worker in workers:
        worker.stop()


@pytest.fixture
def notification(db):
    """Ann's welcome SMS, pending."""
    return NotificationFactory(patient=PatientFactory(**ANN))
