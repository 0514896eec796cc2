"""The accounts' periodic housekeeping (beat schedules it; see CELERY_BEAT_SCHEDULE)."""

from celery import shared_task

from accounts.tokens import tokens_expired_delete


@shared_task(name="accounts.tokens_expired_delete")
def tokens_expired_delete_task() -> int:
    return tokens_expired_delete()
