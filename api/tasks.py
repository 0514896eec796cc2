"""The API's periodic housekeeping (beat schedules it; see CELERY_BEAT_SCHEDULE)."""

from celery import shared_task

from api.services import idempotency_keys_expire


@shared_task(name="api.idempotency_keys_expire")
def idempotency_keys_expire_task() -> int:
    return idempotency_keys_expire()
