"""Settings come from the environment, and bad or missing ones stop the start-up."""

import os
import secrets
import subprocess
import sys
from datetime import timedelta
from pathlib import Path

import pytest
from django.core.exceptions import ImproperlyConfigured
from django.db import connection

from api.durations import parse_duration
from telehealth.env import env_bool

ROOT = Path(__file__).resolve().parents[1]
# Strong by Django's rules (50 characters, 5 different ones, no django-insecure- prefix).
STRONG_KEY = secrets.token_urlsafe(50)


def _settings_in_subprocess(
    tmp_path, show="s.DEBUG, s.ALLOWED_HOSTS, s.DATABASES['default']['ENGINE']", **env
) -> subprocess.CompletedProcess:
    """Import the settings with exactly these DJANGO_* variables and print some values."""
    clean = {k: v for k, v in os.environ.items() if not k.startswith("DJANGO_")}
    clean["TELEHEALTH_VAR_DIR"] = str(tmp_path)
    return subprocess.run(
        [sys.executable, "-c", f"from telehealth import settings as s; print({show})"],
        cwd=ROOT,
        env={**clean, **env},
        capture_output=True,
        text=True,
    )


def test_secret_key_is_required_when_debug_is_off(tmp_path):
    result = _settings_in_subprocess(tmp_path, DJANGO_DEBUG="0")

    assert result.returncode != 0
    assert "DJANGO_SECRET_KEY must be set" in result.stderr


def test_the_key_make_run_generated_is_used_when_none_is_set(tmp_path):
    (tmp_path / "secret-key").write_text(secrets.token_urlsafe(50))  # as make run writes it

    result = _settings_in_subprocess(tmp_path, DJANGO_DEBUG="0")

    assert result.returncode == 0, result.stderr


def test_debug_runs_without_a_secret_key(tmp_path):
    result = _settings_in_subprocess(tmp_path, DJANGO_DEBUG="1")

    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("True")


@pytest.mark.parametrize(
    ("key", "reason"),
    [
        ("test-only-not-secret", "shorter than 50 characters"),
        ("ab" * 40, "fewer than 5 different characters"),
        ("django-insecure-" + secrets.token_urlsafe(50), "starts with 'django-insecure-'"),
    ],
)
def test_a_weak_secret_key_stops_the_start_up(tmp_path, key, reason):
    result = _settings_in_subprocess(tmp_path, DJANGO_DEBUG="0", DJANGO_SECRET_KEY=key)

    assert result.returncode != 0
    assert "ImproperlyConfigured: DJANGO_SECRET_KEY is too weak" in result.stderr
    assert reason in result.stderr
    assert key not in result.stderr  # the key itself is never printed


def test_a_weak_key_the_file_holds_stops_the_start_up_too(tmp_path):
    (tmp_path / "secret-key").write_text("short")

    result = _settings_in_subprocess(tmp_path, DJANGO_DEBUG="0")

    assert result.returncode != 0
    assert "too weak" in result.stderr


def test_debug_accepts_a_weak_key(tmp_path):
    result = _settings_in_subprocess(tmp_path, DJANGO_DEBUG="1", DJANGO_SECRET_KEY="dev")

    assert result.returncode == 0, result.stderr


HTTPS_SETTINGS = (
    "s.SECURE_SSL_REDIRECT, s.SECURE_HSTS_SECONDS, s.SECURE_HSTS_INCLUDE_SUBDOMAINS, "
    "s.SESSION_COOKIE_SECURE, s.CSRF_COOKIE_SECURE, s.SECURE_PROXY_SSL_HEADER, "
    "s.SECURE_REDIRECT_EXEMPT"
)


def test_https_is_on_unless_debugging(tmp_path):
    result = _settings_in_subprocess(
        tmp_path, show=HTTPS_SETTINGS, DJANGO_DEBUG="0", DJANGO_SECRET_KEY=STRONG_KEY
    )

    assert result.returncode == 0, result.stderr
    assert result.stdout.split()[:5] == ["True", "31536000", "True", "True", "True"]
    assert "('HTTP_X_FORWARDED_PROTO', 'https')" in result.stdout


@pytest.mark.parametrize("env", [{"DJANGO_DEBUG": "1"}, {"DJANGO_HTTPS": "0"}])
def test_https_is_off_when_debugging_or_told_so(tmp_path, env):
    result = _settings_in_subprocess(
        tmp_path,
        show="s.HTTPS, 'SECURE_SSL_REDIRECT' in dir(s), 'SESSION_COOKIE_SECURE' in dir(s)",
        DJANGO_SECRET_KEY=STRONG_KEY,
        **env,
    )

    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "False False False"


def _deploy_check(tmp_path, **extra) -> subprocess.CompletedProcess:
    """`check --deploy` with what an operator sets and nothing else (no PYTHONPATH, no test
    run's variables), plus `extra`."""
    env = {
        "PATH": os.environ["PATH"],
        "HOME": str(tmp_path),
        "DJANGO_DEBUG": "0",
        "DJANGO_SECRET_KEY": STRONG_KEY,
        "DJANGO_ALLOWED_HOSTS": "example.org",
        **extra,
    }
    return subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
    )


def test_production_settings_pass_the_deploy_check_with_warnings_as_failures(tmp_path):
    result = _deploy_check(tmp_path)

    assert result.returncode == 0, result.stdout + result.stderr
    assert "System check identified no issues (1 silenced)." in result.stdout


def test_the_deploy_check_fails_without_https(tmp_path):
    result = _deploy_check(tmp_path, DJANGO_HTTPS="0")

    assert result.returncode != 0  # the check is not toothless
    assert "security.W008" in result.stderr  # SECURE_SSL_REDIRECT
    assert "security.W012" in result.stderr  # SESSION_COOKIE_SECURE


def test_hosts_and_database_come_from_the_environment(tmp_path):
    result = _settings_in_subprocess(
        tmp_path,
        DJANGO_SECRET_KEY=STRONG_KEY,
        DJANGO_ALLOWED_HOSTS="api.clinic.example, admin.clinic.example",
        DATABASE_URL="postgres://user@db.example:5432/telehealth",
    )

    assert result.returncode == 0, result.stderr
    assert "['api.clinic.example', 'admin.clinic.example']" in result.stdout
    assert "postgresql" in result.stdout


def test_a_malformed_boolean_stops_the_start_up(tmp_path):
    result = _settings_in_subprocess(tmp_path, DJANGO_SECRET_KEY=STRONG_KEY, DJANGO_DEBUG="maybe")

    assert result.returncode != 0
    assert "DJANGO_DEBUG must be a boolean" in result.stderr


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("90d", timedelta(days=90)),
        ("12h", timedelta(hours=12)),
        ("30m", timedelta(minutes=30)),
        ("45s", timedelta(seconds=45)),
        ("2w", timedelta(weeks=2)),
        ("P3D", timedelta(days=3)),
    ],
)
def test_durations_are_parsed(text, expected):
    assert parse_duration(text) == expected


@pytest.mark.parametrize("text", ["soon", "0d", "-5h", "", "10 parsecs"])
def test_bad_durations_are_refused(text):
    with pytest.raises(ValueError, match="not a positive duration"):
        parse_duration(text)


def test_env_bool_refuses_garbage(monkeypatch):
    monkeypatch.setenv("SOME_FLAG", "perhaps")

    with pytest.raises(ImproperlyConfigured):
        env_bool("SOME_FLAG")


@pytest.mark.django_db
def test_sqlite_runs_in_wal_mode_with_immediate_transactions():
    if connection.vendor != "sqlite":
        pytest.skip("SQLite settings; this run is on another database")

    with connection.cursor() as cursor:
        cursor.execute("PRAGMA journal_mode")
        journal_mode = cursor.fetchone()[0]

    assert journal_mode == "wal"
    assert connection.settings_dict["OPTIONS"]["transaction_mode"] == "IMMEDIATE"
    assert connection.settings_dict["OPTIONS"]["timeout"] >= 5  # seconds a writer waits


def test_redis_visibility_timeout_outlasts_the_longest_retry_delay(settings):
    options = settings.CELERY_BROKER_TRANSPORT_OPTIONS

    assert options["visibility_timeout"] > settings.NOTIFICATION_RETRY_MAX_DELAY


def test_delivery_task_acks_late_and_requeues_when_its_worker_is_lost():
    from notifications.tasks import notification_deliver_task

    assert notification_deliver_task.acks_late is True
    assert notification_deliver_task.reject_on_worker_lost is True


def test_a_stale_threshold_shorter_than_a_send_stops_the_start_up(tmp_path):
    result = _settings_in_subprocess(
        tmp_path, DJANGO_SECRET_KEY=STRONG_KEY, NOTIFICATION_STALE_AFTER="5s", SMS_TIMEOUT="10"
    )

    assert result.returncode != 0
    assert "NOTIFICATION_STALE_AFTER must exceed" in result.stderr


@pytest.mark.django_db
def test_worker_connections_to_sqlite_commit_without_waiting_for_the_disk():
    if connection.vendor != "sqlite":
        pytest.skip("SQLite settings; this run is on another database")
    from django.db import connections
    from django.db.backends.signals import connection_created

    from telehealth.celery import _relax_sqlite_sync_in_workers, _sqlite_synchronous_normal

    worker_connection = connections.create_connection("default")
    _relax_sqlite_sync_in_workers()
    try:
        with worker_connection.cursor() as cursor:
            cursor.execute("PRAGMA synchronous")
            synchronous = cursor.fetchone()[0]
    finally:
        connection_created.disconnect(_sqlite_synchronous_normal)
        worker_connection.close()

    assert synchronous == 1  # NORMAL; web processes keep the default, FULL (2)


def test_email_tls_and_ssl_together_stop_the_start_up(tmp_path):
    result = _settings_in_subprocess(
        tmp_path, DJANGO_SECRET_KEY=STRONG_KEY, EMAIL_USE_TLS="1", EMAIL_USE_SSL="1"
    )

    assert result.returncode != 0
    assert "EMAIL_USE_TLS and EMAIL_USE_SSL exclude each other" in result.stderr


@pytest.mark.django_db(transaction=True)  # a task runs outside any transaction
def test_a_worker_replaces_an_obsolete_connection_before_each_task():
    from telehealth.celery import _drop_broken_database_connections

    connection.ensure_connection()
    connection.close_at = 0  # older than DATABASE_CONN_MAX_AGE allows

    _drop_broken_database_connections()

    assert connection.connection is None
