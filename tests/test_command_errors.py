"""Management commands answer a wrong argument, or a database they cannot read, with one line
and a non-zero exit status, never a traceback (another engineer's accounts commands are tried
in accounts/tests)."""

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]

pytestmark = pytest.mark.slow


def _manage(tmp_path, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=ROOT,
        # A database with no tables yet: nothing migrated.
        env={**os.environ, "DATABASE_URL": f"sqlite:///{tmp_path / 'empty.sqlite3'}"},
        capture_output=True,
        text=True,
    )


@pytest.mark.parametrize("args", [["surprise"], ["--since", "yesterday"], ["--verbosity", "x"]])
def test_notifications_status_refuses_a_wrong_argument_in_one_line(tmp_path, args):
    result = _manage(tmp_path, "notifications_status", *args)

    assert result.returncode == 2
    assert result.stdout == ""
    assert len(result.stderr.splitlines()) == 1
    assert "error:" in result.stderr
    assert "Traceback" not in result.stderr


def test_notifications_status_on_an_unmigrated_database_fails_in_one_line(tmp_path):
    result = _manage(tmp_path, "notifications_status")

    assert result.returncode == 1
    assert result.stderr.splitlines() == [
        "CommandError: cannot read the outbox: no such table: notifications_notification"
    ]
