"""Celery tasks: thin wrappers that take an id and call a service."""

from celery import shared_task

from notifications.services import notification_deliver, notifications_sweep


# Outcomes live on the notification row; only errors are also kept as task results (storing
# every result is one more write per delivery).
@shared_task(
    acks_late=True,
    reject_on_worker_lost=True,
    ignore_result=True,
    store_errors_even_if_ignored=True,
)
def notification_deliver_task(notification_id: str) -> str:
    """Deliver one notification (the service publishes its retry after a transient failure).

    acks_late with reject_on_worker_lost: a worker killed mid-send leaves the message to be
    delivered again, and the row's claim keeps a second copy from sending twice.
    """
    return notification_deliver(notification_id=notification_id).status


@shared_task(ignore_result=False)
def notifications_sweep_task() -> int:
    """Periodic (Celery beat): re-enqueue notifications stuck pending or sending."""
    return notifications_sweep()
