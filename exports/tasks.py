"""Celery tasks: thin wrappers that call a service."""

from celery import shared_task

from exports.services import export_run, exports_sweep


@shared_task(acks_late=True, reject_on_worker_lost=True, ignore_result=True)
def export_run_task(job_id: str) -> str:
    """Write one export's files (exports.services.export_run). acks_late with
    reject_on_worker_lost: a worker lost mid-export leaves the message to run again, and a
    run starts the job again from scratch."""
    return export_run(job_id=job_id)


@shared_task(ignore_result=False)
def exports_sweep_task() -> dict:
    """Periodic (Celery beat, hourly): fail stalled exports, remove expired ones and their
    files."""
    report = exports_sweep()
    return {"stalled": report.stalled, "removed": report.removed}
