"""`manage.py backup DEST`: a consistent copy of the live SQLite database, taken while
patients are being written, that restores with every patient committed before it began."""

import io
import os
import shutil
import sqlite3
import subprocess
import sys
import threading
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command
from django.db import connection, connections

from audit.models import AccessRecord, Action
from patients.models import Patient
from patients.services import patient_create

ROOT = Path(__file__).resolve().parents[2]
SQLITE_ONLY = pytest.mark.skipif(connection.vendor != "sqlite", reason="SQLite's backup")


def backup(dest: Path) -> str:
    out = io.StringIO()
    call_command("backup", str(dest), stdout=out, stderr=io.StringIO())
    return out.getvalue()


def ids_in(database: Path) -> set[str]:
    with sqlite3.connect(database) as copy:
        return {row[0] for row in copy.execute("SELECT id FROM patients_patient")}


@SQLITE_ONLY
@pytest.mark.django_db(transaction=True)
def test_a_backup_under_write_load_restores_with_every_patient_committed_before_it(tmp_path):
    committed: list[str] = []
    stop = threading.Event()

    def write_patients():
        n = 0
        try:
            while not stop.is_set():
                patient = patient_create(
                    name=f"Load {n}", email=f"load{n}@example.org", phone=f"+1555100{n:04d}"
                )
                committed.append(patient.pk.hex)  # SQLite stores a UUID as 32 hex digits
                n += 1
        finally:
            connections["default"].close()

    writer = threading.Thread(target=write_patients)
    writer.start()
    try:
        while len(committed) < 50:  # the load is on before the backup starts
            stop.wait(0.01)
        before = list(committed)
        output = backup(tmp_path / "backup.sqlite3")
    finally:
        stop.set()
        writer.join(timeout=60)
    during = len(committed) - len(before)

    assert output.startswith(f"Backed up the database to {tmp_path / 'backup.sqlite3'}")
    assert os.stat(tmp_path / "backup.sqlite3").st_mode & 0o777 == 0o600
    assert during > 0, "the writer should have kept writing while the copy was taken"
    in_copy = ids_in(tmp_path / "backup.sqlite3")
    assert set(before) <= in_copy
    assert in_copy <= set(committed)  # nothing half-written, nothing invented

    # Restore: the copy is the database of a fresh process, which reads every patient.
    restored = tmp_path / "restored.sqlite3"
    shutil.copy(tmp_path / "backup.sqlite3", restored)
    count = subprocess.run(
        [sys.executable, "manage.py", "shell", "--command",
         "from patients.models import Patient; print(Patient.objects.count())"],
        cwd=ROOT, env={**os.environ, "DATABASE_URL": f"sqlite:///{restored}"},
        capture_output=True, text=True, check=True, timeout=120,
    ).stdout.split()[-1]  # fmt: skip
    assert int(count) == len(in_copy) >= len(before)


@SQLITE_ONLY
@pytest.mark.django_db(transaction=True)
def test_a_backup_is_in_the_access_audit(tmp_path):
    patient_create(name="Ann Lee", email="ann@example.org", phone="+15550100000")

    backup(tmp_path / "backup.sqlite3")

    record = AccessRecord.objects.get(action=Action.DATABASE_BACKUP)
    assert (record.status, record.via, record.path) == (0, "command", "backup")


@SQLITE_ONLY
@pytest.mark.django_db(transaction=True)
def test_a_backup_never_overwrites_a_file_and_says_so(tmp_path):
    dest = tmp_path / "backup.sqlite3"
    dest.write_bytes(b"yesterday's backup")

    with pytest.raises(CommandError, match="exists: give a new file"):
        backup(dest)
    assert dest.read_bytes() == b"yesterday's backup"
    assert AccessRecord.objects.get(action=Action.DATABASE_BACKUP).status == 1


@SQLITE_ONLY
@pytest.mark.django_db(transaction=True)
def test_a_backup_into_a_missing_folder_is_one_line_and_leaves_nothing(tmp_path):
    with pytest.raises(CommandError, match="cannot write"):
        backup(tmp_path / "no-such-folder" / "backup.sqlite3")
    assert not Patient.objects.exists()


@pytest.mark.skipif(connection.vendor == "sqlite", reason="PostgreSQL's answer")
@pytest.mark.django_db(transaction=True)
def test_on_postgresql_the_backup_command_points_to_pg_dump(tmp_path):
    with pytest.raises(CommandError, match="pg_dump"):
        backup(tmp_path / "backup.sqlite3")
    assert not (tmp_path / "backup.sqlite3").exists()
