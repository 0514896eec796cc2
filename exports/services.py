"""Bulk export: start a job, run it (in a Celery worker), cancel it, and remove it with its
files once expired.

The files go through Django's storage API, the "exports" alias of settings.STORAGES (the
local disk by default; any django-storages backend when web and worker run on different
machines). Each completed job has two: the NDJSON, and beside it the ids of the patients it
holds, one a line, which the download's access record names without reading the NDJSON.

A worker that dies mid-export: the task is acknowledged late, so the broker gives it again
(at once when a pool process dies, after the visibility timeout when the whole worker does),
and a run always starts the job again from scratch (idempotent), up to EXPORT_MAX_ATTEMPTS
runs. A job whose progress has not moved for EXPORT_STALE_AFTER, longer than that
redelivery takes, is failed by the hourly sweep, so none stays "in progress" for ever.

Logs carry job ids and counts, never patient data.
"""

import csv
import json
import logging
import os
import secrets
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import IO

from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.models import AbstractBaseUser
from django.core.files import File
from django.db import transaction
from django.utils import timezone
from rest_framework import status

from api.exceptions import ApplicationError
from audit.models import Action, Via
from audit.services import COMMAND_FAILED, COMMAND_SUCCEEDED, access_record
from exports.models import ExportJob
from exports.selectors import (
    export_active_count,
    export_file_patients,
    export_patients,
    export_patients_after,
    export_storage,
)
from fhir_r4.resources import patient_resource
from notifications.publisher import publish
from patients.serializers import PatientSerializer

logger = logging.getLogger(__name__)

RUN_TASK = "exports.tasks.export_run_task"
# Runs a job gets (the first and the broker's redeliveries) before it is failed: an export
# that kills its worker every time must not loop for ever.
EXPORT_MAX_ATTEMPTS = 3
# What a 429 tells a user with too many exports running to wait, in seconds.
EXPORT_LIMIT_RETRY_AFTER = 60
Status = ExportJob.Status


class ExportLimitReached(ApplicationError):
    status_code = status.HTTP_429_TOO_MANY_REQUESTS

    def __init__(self, limit: int):
        super().__init__(
            f"You have {limit} exports in progress, the most one user may have: wait for one "
            "to finish, or cancel one (DELETE its status URL)",
            headers={"Retry-After": str(EXPORT_LIMIT_RETRY_AFTER)},
        )


def _file_names(job_id) -> tuple[str, str]:
    """The storage names of a job's Patient NDJSON and of its ids. Flat names (no folder per
    job), so removing the files leaves no empty folders behind on a disk."""
    return f"{job_id}.Patient.ndjson", f"{job_id}.Patient.ids"


@transaction.atomic
def export_start(*, user: AbstractBaseUser, request_url: str, since: datetime | None) -> ExportJob:
    """Create an export job and queue its task once committed. Raises ExportLimitReached (a
    429) when the user already has EXPORT_MAX_ACTIVE_PER_USER exports queued or running, so
    that one user cannot fill the workers' queue."""
    # The user's row, locked: two kick-offs at once count each other's job.
    list(get_user_model().objects.select_for_update().filter(pk=user.pk).values_list("pk"))
    limit = settings.EXPORT_MAX_ACTIVE_PER_USER
    if export_active_count(user=user) >= limit:
        raise ExportLimitReached(limit)
    job = ExportJob.objects.create(
        requested_by=user, since=since, request_url=request_url, heartbeat_at=timezone.now()
    )
    transaction.on_commit(lambda: _publish(job.pk), robust=True)
    logger.info("export %s started by user %s", job.pk, user.pk)
    return job


def _publish(job_id) -> None:
    """Queue the job's task. A broker that does not answer fails the job at once (its status
    says so), rather than leaving it queued with no task to run it."""
    unpublished = publish(
        RUN_TASK,
        [str(job_id)],
        timeout=settings.NOTIFICATION_PUBLISH_TIMEOUT,
        retry_policy=settings.NOTIFICATION_PUBLISH_RETRY,
    )
    if unpublished:
        _fail(job_id, "The export could not be queued (no answer from the broker): start again")


def _fail(job_id, error: str, *, only_attempt: int | None = None) -> bool:
    now = timezone.now()
    jobs = ExportJob.objects.filter(pk=job_id, status__in=(Status.ACCEPTED, Status.RUNNING))
    if only_attempt is not None:
        jobs = jobs.filter(attempts=only_attempt)
    failed = jobs.update(
        status=Status.FAILED,
        error=error,
        finished_at=now,
        expires_at=now + settings.EXPORT_TTL,
    )
    if failed:
        logger.warning("export %s failed: %s", job_id, error)
    return bool(failed)


@transaction.atomic
def _claim(job_id) -> ExportJob | None:
    """The job, marked running for a new attempt from scratch; None when no run is due (it
    is cancelled, finished, gone, or out of attempts)."""
    job = ExportJob.objects.select_for_update().filter(pk=job_id).first()
    if job is None or job.status not in (Status.ACCEPTED, Status.RUNNING):
        return None
    if job.attempts >= EXPORT_MAX_ATTEMPTS:
        _fail(job.pk, f"The export stopped {job.attempts} times: start a new one")
        return None
    now = timezone.now()
    job.status = Status.RUNNING
    job.attempts += 1
    job.transaction_time = now
    job.heartbeat_at = now
    job.exported = 0
    job.total = export_patients(since=job.since, until=now).count()
    job.save(
        update_fields=[
            "status",
            "attempts",
            "transaction_time",
            "heartbeat_at",
            "exported",
            "total",
        ]
    )
    return job


def _still_running(job: ExportJob, **fields) -> bool:
    """One UPDATE: the progress (and whatever else is given) if this attempt still owns the
    job. False once it was cancelled, removed, or taken over by a newer attempt."""
    return bool(
        ExportJob.objects.filter(pk=job.pk, status=Status.RUNNING, attempts=job.attempts).update(
            heartbeat_at=timezone.now(), **fields
        )
    )


def _ndjson_line(patient) -> str:
    # Compact, one resource a line; UTF-8 as it is (NDJSON is UTF-8).
    return json.dumps(patient_resource(patient), separators=(",", ":"), ensure_ascii=False)


def _write_chunks(job: ExportJob, ndjson: IO[bytes], ids: IO[bytes]) -> int | None:
    """Write the job's patients to the two local files, EXPORT_CHUNK_SIZE at a time, with
    the progress after each chunk. Returns how many, or None if the job stopped meanwhile.

    Keyset pages rather than one `.iterator()` query: on SQLite an open read (its WAL
    snapshot) cannot then write the progress once another connection has written (the
    cancelling DELETE, any audit record): "database is locked". Each page is short and
    uses the (created_at, id) index; `until` the transaction time keeps the pages one
    consistent set.
    """
    patients = export_patients(since=job.since, until=job.transaction_time)
    written, last = 0, None
    while True:
        chunk = list(export_patients_after(patients, last)[: settings.EXPORT_CHUNK_SIZE])
        if not chunk:
            return written
        ndjson.write("".join(_ndjson_line(p) + "\n" for p in chunk).encode())
        ids.write("".join(f"{p.pk}\n" for p in chunk).encode())
        written += len(chunk)
        last = chunk[-1]
        if not _still_running(job, exported=written):
            return None


def _save(name: str, content: IO[bytes]) -> str:
    """Store a local file under `name`, replacing one an earlier attempt left there."""
    storage = export_storage()
    storage.delete(name)
    return storage.save(name, File(content, name=name))


def export_run(*, job_id) -> str:
    """Run an export (its Celery task calls this): write the NDJSON to a local temporary
    file, chunk by chunk, then store it, so memory stays flat however many patients there
    are. Stops, leaving no file, when the job is cancelled meanwhile. Returns the job's
    status afterwards."""
    job = _claim(job_id)
    if job is None:
        return "skipped"
    logger.info("export %s: attempt %d, %d patients", job.pk, job.attempts, job.total)
    ndjson_name, ids_name = _file_names(job.pk)
    try:
        with tempfile.TemporaryFile() as ndjson, tempfile.TemporaryFile() as ids:
            written = _write_chunks(job, ndjson, ids)
            if written is None:
                logger.info("export %s stopped: cancelled or taken over", job.pk)
                return Status.CANCELLED
            # No patients, no file: the specification's manifest lists none then.
            if written:
                stored = _save(ndjson_name, ndjson)
                stored_ids = _save(ids_name, ids)
            else:  # nor one an earlier attempt left behind
                export_files_delete(job, output=[])
    except Exception as exc:
        # The type only: a message could quote data.
        logger.error("export %s failed: %s", job.pk, type(exc).__name__)
        try:
            export_files_delete(job)
        except Exception as cleanup:  # the sweep removes them with the job, by their names
            logger.error("export %s: files not removed (%s)", job.pk, type(cleanup).__name__)
        _fail(
            job.pk,
            f"The export failed ({type(exc).__name__}): start a new one",
            only_attempt=job.attempts,
        )
        return Status.FAILED
    now = timezone.now()
    output = (
        [
            {
                "type": "Patient",
                "file": "Patient.ndjson",
                "name": stored,
                "ids_name": stored_ids,
                "count": written,
            }
        ]
        if written
        else []
    )
    if not _still_running(
        job,
        status=Status.COMPLETED,
        exported=written,
        output=output,
        finished_at=now,
        expires_at=now + settings.EXPORT_TTL,
    ):
        # Cancelled while the files were stored: they go now (the cancel removed what was
        # there then). A newer attempt's own files are under the same names: keep them.
        current = ExportJob.objects.filter(pk=job.pk).values_list("status", flat=True).first()
        if current != Status.RUNNING:
            export_files_delete(job, output=output)
        return current or Status.CANCELLED
    logger.info("export %s completed: %d patients", job.pk, written)
    return Status.COMPLETED


def export_files_delete(job: ExportJob, output: list | None = None) -> None:
    """Remove a job's files from the storage (those its output names, and those a run may
    have stored before it could record them)."""
    storage = export_storage()
    names = set(_file_names(job.pk))
    for entry in job.output if output is None else output:
        names.update((entry["name"], entry["ids_name"]))
    for name in sorted(names):
        storage.delete(name)


@transaction.atomic
def export_cancel(*, job: ExportJob) -> None:
    """Cancel a job (DELETE on its status URL): it stops at its next chunk, its files go,
    and its status URL answers 404 from now on. The row stays until the sweep, so a task
    still queued for it finds it cancelled rather than missing."""
    now = timezone.now()
    ExportJob.objects.filter(pk=job.pk).update(
        status=Status.CANCELLED, finished_at=now, expires_at=now
    )
    transaction.on_commit(lambda: export_files_delete(job), robust=True)
    logger.info("export %s cancelled", job.pk)


@dataclass(frozen=True)
class SweepReport:
    stalled: int
    removed: int


def exports_sweep() -> SweepReport:
    """Hourly (Celery beat): fail the jobs whose progress stopped EXPORT_STALE_AFTER ago (a
    lost worker, a lost message), then remove the expired jobs and their files. The files go
    first: a failure on the way leaves a row that the next sweep takes again, never a file
    that no row names."""
    now = timezone.now()
    stalled = ExportJob.objects.filter(
        status__in=(Status.ACCEPTED, Status.RUNNING),
        heartbeat_at__lt=now - settings.EXPORT_STALE_AFTER,
    ).update(
        status=Status.FAILED,
        error="The export stopped making progress (its worker was lost): start a new one",
        finished_at=now,
        expires_at=now + settings.EXPORT_TTL,
    )
    removed = 0
    for job in ExportJob.objects.filter(expires_at__lte=now).only("pk", "output"):
        export_files_delete(job)
        ExportJob.objects.filter(pk=job.pk).delete()
        removed += 1
    if stalled or removed:
        logger.info("exports sweep: %d stalled jobs failed, %d expired removed", stalled, removed)
    return SweepReport(stalled=stalled, removed=removed)


# `manage.py export_patients`: the patients, as the API shows them, in a CSV or NDJSON file.

FILE_FORMATS = ("csv", "ndjson")
# The access records' path: the command's name, as command_access gives it.
FILE_EXPORT_COMMAND = "export_patients"
# The API's keys, in its order (PatientSerializer.to_representation's): the CSV's header.
FILE_COLUMNS = tuple(PatientSerializer.Meta.fields)
# What a spreadsheet runs as a formula when a cell starts with it (OWASP, "CSV Injection").
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


class ExportFileRefused(Exception):
    """The file cannot be written there; the message says why, in one line."""


def _csv_cell(value):
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    # A leading ' makes a spreadsheet show the cell as text. Also before quotes that already
    # lead to a formula character ("'=x" is written "''=x"), so that an importer dropping
    # one quote from every cell of this shape gets back exactly what was stored.
    if isinstance(value, str) and value.lstrip("'").startswith(FORMULA_STARTS):
        return "'" + value
    return value


def _csv_rows(out: IO[str]):
    # Excel's dialect (RFC 4180: commas, "" within quotes, CRLF), UTF-8 without a BOM.
    writer = csv.writer(out)
    writer.writerow(FILE_COLUMNS)
    return lambda rows: writer.writerows(
        [_csv_cell(row[column]) for column in FILE_COLUMNS] for row in rows
    )


def _ndjson_rows(out: IO[str]):
    return lambda rows: out.writelines(
        json.dumps(row, ensure_ascii=False, separators=(",", ":")) + "\n" for row in rows
    )


_ROW_WRITERS = {"csv": _csv_rows, "ndjson": _ndjson_rows}


def _write_patients(
    out: IO[str], *, file_format: str, since: datetime | None, progress: Callable | None
) -> int:
    """Write the patients to `out`, EXPORT_CHUNK_SIZE at a time, each chunk recorded in the
    access audit before it is written. Returns how many."""
    write_rows = _ROW_WRITERS[file_format](out)
    shown = PatientSerializer().to_representation
    patients = export_file_patients(since=since)
    written, last = 0, None
    while True:
        # Each chunk is a query of its own, in autocommit: its own short read transaction.
        # One transaction round the whole export would, on SQLite (BEGIN IMMEDIATE), hold
        # the write lock and so stop every writer of the service for minutes; or, read
        # only, keep one WAL snapshot open, which no checkpoint can get past, so the WAL
        # grows for as long as the export runs (on PostgreSQL, it holds back vacuum).
        chunk = list(export_patients_after(patients, last)[: settings.EXPORT_CHUNK_SIZE])
        if not chunk:
            return written
        # A record per chunk: one naming every patient at the end would hold all their ids
        # in memory. Recorded before the chunk is written, never after.
        access_record(
            action=Action.PATIENT_EXPORT,
            via=Via.COMMAND,
            patient_ids=[patient.pk for patient in chunk],
            status_code=COMMAND_SUCCEEDED,
            path=FILE_EXPORT_COMMAND,
        )
        write_rows(shown(patient) for patient in chunk)
        written += len(chunk)
        last = chunk[-1]
        if progress is not None:
            progress(len(chunk))


def _refused_existing(dest: Path) -> ExportFileRefused:
    return ExportFileRefused(f"{dest} exists: give a new file, or --force to replace it")


def _check_dest(dest: Path, *, overwrite: bool) -> None:
    if dest.is_dir():
        raise ExportFileRefused(f"{dest} is a folder: give a file name")
    if os.path.lexists(dest) and not overwrite:
        raise _refused_existing(dest)
    if not dest.parent.is_dir():
        raise ExportFileRefused(f"cannot write {dest}: there is no folder {dest.parent}")


def _move_into_place(partial: Path, dest: Path, *, overwrite: bool) -> None:
    if overwrite:
        os.replace(partial, dest)
        return
    # A hard link, unlike a rename, fails if `dest` appeared meanwhile (another export):
    # only --force replaces a file.
    try:
        os.link(partial, dest)
    except FileExistsError:
        raise _refused_existing(dest) from None
    except OSError:  # no hard links there (FAT, some network shares): check, then rename
        if os.path.lexists(dest):
            raise _refused_existing(dest) from None
        os.replace(partial, dest)
    else:
        os.unlink(partial)


def patients_export_file(
    *,
    dest: Path,
    file_format: str,
    since: datetime | None = None,
    overwrite: bool = False,
    progress: Callable[[int], None] | None = None,
) -> int:
    """Write every patient (or those changed at or after `since`) to the file `dest`, as the
    API shows them, in CSV or NDJSON. Returns how many.

    Memory stays flat whatever the count: keyset chunks, each read in its own transaction
    and recorded in the access audit (Action.PATIENT_EXPORT, one record per chunk). The file
    is written beside `dest`, readable by its owner only, synced, then renamed into place,
    so `dest` is never half an export; on any failure the partial file is removed and the
    attempt is recorded (status 1). Raises ExportFileRefused if `dest` exists (unless
    `overwrite`) or cannot be made, OSError if writing fails."""
    if file_format not in _ROW_WRITERS:
        raise ValueError(f"unknown format {file_format!r}")
    partial = None
    try:
        _check_dest(dest, overwrite=overwrite)
        name = dest.with_name(f".{dest.name}.{secrets.token_hex(4)}.partial")
        # 0600 from its creation (a umask only takes bits away): it holds patient data.
        fd = os.open(name, os.O_CREAT | os.O_EXCL | os.O_WRONLY | os.O_CLOEXEC, 0o600)
        partial = name
        with open(fd, "w", encoding="utf-8", newline="") as out:
            written = _write_patients(out, file_format=file_format, since=since, progress=progress)
            out.flush()
            os.fsync(out.fileno())
        _move_into_place(partial, dest, overwrite=overwrite)
    except BaseException:  # Ctrl-C too: no partial file stays behind
        if partial is not None:
            partial.unlink(missing_ok=True)
        access_record(
            action=Action.PATIENT_EXPORT,
            via=Via.COMMAND,
            status_code=COMMAND_FAILED,
            path=FILE_EXPORT_COMMAND,
        )
        raise
    return written
