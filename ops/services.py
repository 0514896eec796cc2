"""Writes of the ops app: the worker heartbeat, and backups of a SQLite database."""

import os
import sqlite3
from datetime import timedelta
from pathlib import Path

from django.db import connection
from django.utils import timezone

from ops.models import WorkerHeartbeat

# A worker not seen for this long has gone (renamed, scaled down): its row is deleted.
FORGET_WORKERS_AFTER = timedelta(days=1)


def worker_heartbeat_record(*, worker: str) -> None:
    """Note that `worker` (a Celery node name) is alive now, and forget long-gone workers."""
    now = timezone.now()
    WorkerHeartbeat.objects.update_or_create(worker=worker[:255], defaults={"seen_at": now})
    WorkerHeartbeat.objects.filter(seen_at__lt=now - FORGET_WORKERS_AFTER).delete()


class BackupRefused(Exception):
    pass


def database_backup(*, dest: Path) -> int:
    """Copy the live SQLite database to `dest` with SQLite's online backup API: a consistent
    copy, as of one instant, while the service goes on reading and writing (in WAL mode the
    copy's read transaction holds up no writer). Returns the copy's size in bytes.

    The copy is written beside `dest` and renamed into place once SQLite has checked it, so
    `dest` is never half a database; it is readable by its owner only (the settings' umask).
    Refuses an existing `dest`, and any database but SQLite (PostgreSQL has pg_dump).
    """
    if connection.vendor != "sqlite":
        raise BackupRefused(
            f"the database is {connection.vendor}: back it up with its own tools (pg_dump)"
        )
    if dest.exists():
        raise BackupRefused(f"{dest} exists: give a new file")
    if not dest.parent.is_dir():
        raise BackupRefused(f"cannot write {dest}: there is no folder {dest.parent}")
    partial = dest.with_name(f".{dest.name}.partial")
    partial.unlink(missing_ok=True)
    connection.ensure_connection()
    try:
        target = sqlite3.connect(partial)
        try:
            # In one step (pages=-1): one read transaction, so the copy is of one instant.
            # In steps, a write between two of them would make SQLite start the copy again.
            connection.connection.backup(target)
            (check,) = target.execute("PRAGMA integrity_check").fetchone()
        finally:
            target.close()
    except sqlite3.Error as exc:
        partial.unlink(missing_ok=True)
        raise BackupRefused(f"cannot write {dest}: {exc}") from None
    if check != "ok":
        partial.unlink(missing_ok=True)
        raise BackupRefused(f"the copy failed SQLite's integrity check: {check}")
    os.replace(partial, dest)
    return dest.stat().st_size
