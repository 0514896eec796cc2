"""Celery tasks: thin wrappers that call a service."""

from datetime import timedelta

from celery import shared_task
from django.conf import settings

from audit.models import Action
from audit.services import command_access
from patients.services import patients_purge_deleted

TASK = "patients.tasks.patients_purge_deleted_task"


@shared_task(ignore_result=False)
def patients_purge_deleted_task() -> int:
    """Periodic (Celery beat, daily, when PATIENT_RETENTION_DAYS is set): erase the personal
    data of patients deleted longer ago than that. The run is in the access audit, as a
    command run named after this task. Returns how many patients were purged."""
    days = settings.PATIENT_RETENTION_DAYS
    if days is None:
        return 0  # a schedule left over from when it was set: keep everything
    with command_access(command=TASK, action=Action.PATIENT_PURGE) as ids:
        report = patients_purge_deleted(older_than=timedelta(days=days))
        ids.extend(report.patient_ids)
    return len(report.patient_ids)
