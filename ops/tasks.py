"""Celery tasks of the ops app."""

from celery import shared_task

from ops.services import worker_heartbeat_record


# Scheduled by beat every HEALTH_HEARTBEAT_INTERVAL (telehealth.settings), expiring after
# HEALTH_WORKER_MAX_AGE: a heartbeat that waited longer than that in the queue says nothing.
# No result is stored: the row it writes is the result.
@shared_task(bind=True, ignore_result=True)
def worker_heartbeat_task(self) -> None:
    """Record that a worker took a task off the queue and reached the database just now.

    It travels the path deliveries do (beat -> broker -> a worker -> the database), so a
    recent heartbeat means that path works, not only that a worker process exists."""
    worker_heartbeat_record(worker=self.request.hostname or "unknown")
