"""The ops settings that would make the checks or the metrics wrong stop the start-up."""

import ast
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


def _start(tmp_path, **env) -> subprocess.CompletedProcess:
    """Import the settings with these variables set; the result."""
    clean = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("HEALTH_", "METRICS_", "PROMETHEUS_", "DATABASE_"))
    }
    return subprocess.run(
        [sys.executable, "-c", "from telehealth import settings as s; print(s.METRICS_TOKEN)"],
        cwd=ROOT,
        env={**clean, "TELEHEALTH_VAR_DIR": str(tmp_path), **env},
        capture_output=True,
        text=True,
    )


@pytest.mark.parametrize(
    ("env", "message"),
    [
        ({"METRICS_TOKEN": "short-token"}, "METRICS_TOKEN must be at least 32 characters"),
        (
            {"HEALTH_HEARTBEAT_INTERVAL": "60s", "HEALTH_WORKER_MAX_AGE": "60s"},
            "HEALTH_HEARTBEAT_INTERVAL must be shorter than HEALTH_WORKER_MAX_AGE",
        ),
        ({"HEALTH_CHECK_TIMEOUT": "0"}, "HEALTH_CHECK_TIMEOUT must be more than 0 seconds"),
        (
            {"DATABASE_URL": "postgres://u@db/t", "DATABASE_CONNECT_TIMEOUT": "0"},
            "DATABASE_CONNECT_TIMEOUT must be 1 second or more",
        ),
        ({"HEALTH_OUTBOX_MAX_AGE": "soon"}, "HEALTH_OUTBOX_MAX_AGE: not a positive duration"),
        (
            {"PROMETHEUS_MULTIPROC_DIR": "/nonexistent-opsh-dir"},
            "PROMETHEUS_MULTIPROC_DIR must be an existing directory",
        ),
    ],
    ids=[
        "short-token",
        "heartbeat-not-within-max-age",
        "no-timeout",
        "no-connect-timeout",
        "bad-age",
        "missing-dir",
    ],
)
def test_a_wrong_ops_setting_stops_the_start_up(tmp_path, env, message):
    result = _start(tmp_path, **env)

    assert result.returncode != 0
    assert message in result.stderr
    assert "short-token" not in result.stderr  # a token is never printed


def test_a_long_enough_token_is_taken(tmp_path):
    token = "t" * 16 + "0123456789abcdefghij"

    result = _start(tmp_path, METRICS_TOKEN=token)

    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == token


def _database_options(tmp_path, **env) -> dict:
    result = subprocess.run(
        [sys.executable, "-c", "from telehealth import settings as s; print(s.DATABASES)"],
        cwd=ROOT,
        env={**os.environ, "TELEHEALTH_VAR_DIR": str(tmp_path), **env},
        capture_output=True,
        text=True,
    )
    assert result.returncode == 0, result.stderr
    return ast.literal_eval(result.stdout.strip())["default"].get("OPTIONS", {})


def test_postgresql_connections_give_up_after_a_connect_timeout(tmp_path):
    options = _database_options(
        tmp_path, DATABASE_URL="postgres://u@db.example/telehealth?sslmode=require"
    )

    assert options["connect_timeout"] == 5
    assert options["sslmode"] == "require"  # the URL's own options kept


def test_the_connect_timeout_is_the_urls_or_the_settings(tmp_path):
    from_url = _database_options(tmp_path, DATABASE_URL="postgres://u@db/t?connect_timeout=9")
    from_env = _database_options(
        tmp_path, DATABASE_URL="postgres://u@db/t", DATABASE_CONNECT_TIMEOUT="3"
    )

    assert int(from_url["connect_timeout"]) == 9
    assert from_env["connect_timeout"] == 3
