"""What the health checks keep: when each Celery worker last ran the heartbeat task."""

from django.db import models


class WorkerHeartbeat(models.Model):
    """The last time a worker ran `ops.tasks.worker_heartbeat_task` (scheduled by beat every
    HEALTH_HEARTBEAT_INTERVAL). A row per worker node name; rows of workers gone for a day
    are deleted by the next heartbeat."""

    # Celery's node name (`celery@host`): which worker, never anything about a patient.
    worker = models.CharField(max_length=255, primary_key=True)
    seen_at = models.DateTimeField(db_index=True)

    class Meta:
        ordering = ["-seen_at"]

    def __str__(self) -> str:
        return f"{self.worker} at {self.seen_at.isoformat(timespec='seconds')}"
