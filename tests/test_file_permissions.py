"""Files that hold patient data are their owner's alone: the SQLite database the service
creates, its -wal and -shm, and an existing database whose mode let others read it."""

import os
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]

pytestmark = pytest.mark.slow

# The service's code, run while a connection is open (the -wal and -shm exist only then):
# write a row, then print the modes of the database's three files.
SHOW_MODES = (
    "import os; from django.db import connection; "
    "cursor = connection.cursor(); "
    "cursor.execute('CREATE TABLE IF NOT EXISTS probe (x)'); "
    "cursor.execute('INSERT INTO probe VALUES (1)'); "
    "name = connection.settings_dict['NAME']; "
    "print(*(oct(os.stat(name + suffix).st_mode & 0o777) for suffix in ('', '-wal', '-shm')))"
)


def _manage(database: Path, *args: str) -> subprocess.CompletedProcess:
    """manage.py on this database, started with a umask that lets everyone read new files
    (a common default), so only the service's own doing can make them private."""
    return subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=ROOT,
        env={**os.environ, "DATABASE_URL": f"sqlite:///{database}"},
        preexec_fn=lambda: os.umask(0o022),
        capture_output=True,
        text=True,
        check=True,
    )


def _mode(path: Path) -> int:
    return path.stat().st_mode & 0o777


def test_a_new_database_and_its_wal_and_shm_are_readable_by_their_owner_only(tmp_path):
    database = tmp_path / "new.sqlite3"

    _manage(database, "migrate", "--noinput")
    modes = _manage(database, "shell", "--no-imports", "-c", SHOW_MODES).stdout.split()

    assert _mode(database) == 0o600
    assert modes == ["0o600", "0o600", "0o600"]


def test_an_existing_database_readable_by_others_is_made_private(tmp_path):
    database = tmp_path / "old.sqlite3"
    # An older deployment's database, open in WAL mode so its -wal and -shm exist too.
    held = sqlite3.connect(database)
    held.execute("PRAGMA journal_mode=WAL")
    held.execute("CREATE TABLE probe (x)")
    held.commit()
    files = [database, Path(f"{database}-wal"), Path(f"{database}-shm")]
    for path in files:
        path.chmod(0o644)
    try:
        _manage(database, "migrate", "--noinput")
        modes = [_mode(path) for path in files]
    finally:
        held.close()

    assert modes == [0o600, 0o600, 0o600]
