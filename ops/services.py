"""Writes of the ops app: the worker heartbeat."""

from datetime import timedelta

from django.utils import timezone

from ops.models import WorkerHeartbeat

# A worker not seen for this long has gone (renamed, scaled down): its row is deleted.
FORGET_WORKERS_AFTER = timedelta(days=1)


def worker_heartbeat_record(*, worker: str) -> None:
    """Note that `worker` (a Celery node name) is alive now, and forget long-gone workers."""
    now = timezone.now()
    WorkerHeartbeat.objects.update_or_create(worker=worker[:255], defaults={"seen_at": now})
    WorkerHeartbeat.objects.filter(seen_at__lt=now - FORGET_WORKERS_AFTER).delete()
