"""Reads for bulk exports: a user's jobs and files, and the patients an export writes."""

from datetime import datetime

from django.contrib.auth.models import AbstractBaseUser
from django.core.files import File
from django.core.files.storage import Storage, storages
from django.db.models import Q, QuerySet
from django.utils import timezone

from api.ids import uuid_or_none
from exports.models import ExportJob
from patients.models import Patient

# The alias in settings.STORAGES of where the files go.
STORAGE_ALIAS = "exports"
# Jobs that hold one of a user's export slots.
ACTIVE = (ExportJob.Status.ACCEPTED, ExportJob.Status.RUNNING)
# The order of the file: the REST API's stable order, on its (created_at, id) index.
EXPORT_ORDERING = ("created_at", "id")


def export_job_for(*, job_id, user: AbstractBaseUser) -> ExportJob | None:
    """The user's job with this id while its status URL answers: not someone else's, not
    cancelled, not expired (the hourly sweep may not have removed it yet). Else None."""
    pk = uuid_or_none(job_id)
    if pk is None or not user.is_authenticated:
        return None
    return (
        ExportJob.objects.filter(pk=pk, requested_by=user)
        .exclude(status=ExportJob.Status.CANCELLED)
        .exclude(expires_at__lte=timezone.now())
        .first()
    )


def export_output_file(job: ExportJob, file_name: str) -> dict | None:
    """The entry of a completed job's output named `file_name` in its URL, or None."""
    if job.status != ExportJob.Status.COMPLETED:
        return None
    return next((entry for entry in job.output if entry["file"] == file_name), None)


def export_active_count(*, user: AbstractBaseUser) -> int:
    return ExportJob.objects.filter(requested_by=user, status__in=ACTIVE).count()


def export_patients(*, since: datetime | None, until: datetime) -> QuerySet[Patient]:
    """The patients an export writes: changed after `since` (all without it) and not after
    `until`, its transaction time: one changed since is left to the next export `_since`
    that time, as the specification has it, so no patient is missed or half-written."""
    patients = Patient.objects.filter(updated_at__lte=until)
    if since is not None:
        patients = patients.filter(updated_at__gt=since)
    return patients.order_by(*EXPORT_ORDERING)


def export_patients_after(patients: QuerySet[Patient], last: Patient | None) -> QuerySet:
    """The patients after `last` in EXPORT_ORDERING (keyset paging: each chunk is a short
    query of its own, whatever the depth).

    The leading `created_at >=` is implied by the OR, but it is a bound the (created_at, id)
    index can seek to: without it SQLite scanned the index from its start at every chunk,
    0.1 s a chunk of 1,000 half-way through a million patients against 0.012 s with it, so
    an export took time in the square of its size."""
    if last is None:
        return patients
    return patients.filter(
        Q(created_at__gte=last.created_at),
        Q(created_at__gt=last.created_at) | Q(id__gt=last.id),
    )


def export_storage() -> Storage:
    """Where the exports' files are (settings.STORAGES["exports"])."""
    return storages[STORAGE_ALIAS]


def export_file_open(entry: dict) -> File | None:
    """A completed job's file, opened for reading (streamed, never read whole), or None if
    the sweep removed it meanwhile."""
    try:
        return export_storage().open(entry["name"], "rb")
    except FileNotFoundError:
        return None


def export_file_patient_ids(entry: dict) -> list[str] | None:
    """The ids of the patients a file holds, from the list stored beside it; None if it
    was removed (then the file is not served: its download could not be audited)."""
    try:
        with export_storage().open(entry["ids_name"], "rb") as ids:
            return ids.read().decode().split()
    except FileNotFoundError:
        return None


def export_file_patients(*, since: datetime | None) -> QuerySet[Patient]:
    """The patients `manage.py export_patients` writes: every one, or those changed at or
    after `since`, in EXPORT_ORDERING (page them with export_patients_after).

    No upper bound, unlike export_patients(): a FHIR client asks again `_since` the
    transaction time for what changed meanwhile, but a file is all an operator gets, and a
    patient edited during a long export would be in neither. Paged by (created_at, id),
    which never change, each patient is written once, as its chunk found them."""
    patients = Patient.objects.all()
    if since is not None:
        patients = patients.filter(updated_at__gte=since)
    return patients.order_by(*EXPORT_ORDERING)
