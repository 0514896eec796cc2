"""The FHIR face's periodic housekeeping (beat schedules it; see CELERY_BEAT_SCHEDULE)."""

from celery import shared_task

from fhir_r4.services import saved_searches_expire


@shared_task(name="fhir_r4.searches_expire")
def saved_searches_expire_task() -> int:
    return saved_searches_expire()
