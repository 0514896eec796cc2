"""The accounts' management commands answer bad arguments with a one-line error and a non-zero
exit status, never a traceback, and change nothing."""

import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.contrib.auth import get_user_model
from django.core.management import CommandError
from knox.models import AuthToken

from accounts.tests.commands import run

pytestmark = pytest.mark.django_db

ROOT = Path(__file__).resolve().parents[2]
User = get_user_model()


@pytest.mark.parametrize(
    "args",
    [
        ("issue_token", "svc", "--create", "--ttl", "999999999d"),
        ("issue_token", "svc", "--create", "--ttl", "1000000000000000000000w"),
        ("issue_token", "x" * 151, "--create"),
        ("issue_token", "bad\x00name", "--create"),
        ("issue_token", "with space", "--create"),
        ("issue_token", "ghost"),
        ("demo_user", "--username", "x" * 151),
        ("demo_user", "--username", ""),
        ("enrol_totp", "ghost"),
        ("enrol_totp", "ghost", "--confirm", "123456"),
    ],
)
def test_bad_arguments_are_a_one_line_command_error_and_change_nothing(args):
    with pytest.raises(CommandError) as refused:
        run(*args)

    assert str(refused.value)
    assert "\n" not in str(refused.value)
    assert not User.objects.exists()
    assert not AuthToken.objects.exists()


def test_an_overflowing_ttl_exits_non_zero_without_a_traceback(tmp_path):
    env = {**os.environ, "DATABASE_URL": f"sqlite:///{tmp_path / 'db.sqlite3'}"}

    result = subprocess.run(
        [sys.executable, "manage.py", "issue_token", "svc", "--create", "--ttl", "999999999d"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
    )

    assert result.returncode == 1
    assert "Traceback" not in result.stderr
    assert result.stderr.strip().splitlines() == [
        "CommandError: --ttl: too long a duration: '999999999d' (at most 36500d)"
    ]


NOT_UTF8 = b"\xff\xfe"


@pytest.mark.parametrize(
    "args",
    [
        ("issue_token", NOT_UTF8),
        ("issue_token", "svc", "--create", "--ttl", NOT_UTF8),
        ("enrol_totp", NOT_UTF8),
        ("enrol_totp", "svc", "--name", NOT_UTF8),
        ("demo_user", "--username", NOT_UTF8),
        ("issue_token", "svc", "--role", "nope"),
        ("setup_roles", "surprise"),
    ],
)
def test_wrong_arguments_from_the_command_line_are_one_line_and_exit_2(tmp_path, args):
    env = {**os.environ, "DATABASE_URL": f"sqlite:///{tmp_path / 'db.sqlite3'}"}

    result = subprocess.run(
        [sys.executable, "manage.py", *args], cwd=ROOT, env=env, capture_output=True
    )

    stderr = result.stderr.decode(errors="replace")
    assert result.returncode == 2
    assert "Traceback" not in stderr
    assert len(stderr.strip().splitlines()) == 1
    assert "error:" in stderr
