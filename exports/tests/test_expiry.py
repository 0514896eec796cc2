"""Expiry: the hourly sweep removes exports EXPORT_TTL after they finished, files and all,
and fails those whose worker was lost. Time is moved with time-machine, never slept."""

from datetime import timedelta

import pytest
import time_machine
from django.conf import settings as django_settings
from django.utils import timezone

from exports.models import ExportJob
from exports.services import export_run
from exports.tasks import exports_sweep_task
from exports.tests.conftest import ASYNC, KICKOFF, job_of, make_patients

pytestmark = pytest.mark.django_db


@pytest.fixture
def completed(dana, export_dir, settings):
    settings.EXPORT_TTL = timedelta(hours=1)
    make_patients(3)
    job = job_of(dana.get(KICKOFF, **ASYNC))
    export_run(job_id=job.pk)
    return job


def test_the_sweep_runs_hourly_from_beat():
    assert django_settings.CELERY_BEAT_SCHEDULE["exports-sweep"] == {
        "task": "exports.tasks.exports_sweep_task",
        "schedule": 3600,
    }


def test_an_expired_export_is_removed_with_its_files(dana, completed, export_dir):
    with time_machine.travel(timezone.now() + timedelta(minutes=61)):
        assert exports_sweep_task() == {"stalled": 0, "removed": 1}

        assert list(export_dir.iterdir()) == []
        assert not ExportJob.objects.filter(pk=completed.pk).exists()
        assert dana.get(f"/fhir/bulk-status/{completed.pk}").status_code == 404


def test_an_export_within_its_ttl_is_kept(dana, completed, export_dir):
    with time_machine.travel(timezone.now() + timedelta(minutes=59)):
        assert exports_sweep_task() == {"stalled": 0, "removed": 0}

        assert len(list(export_dir.iterdir())) == 2
        assert dana.get(f"/fhir/bulk-status/{completed.pk}").status_code == 200


def test_an_expired_export_is_404_even_before_the_sweep(dana, completed):
    with time_machine.travel(timezone.now() + timedelta(minutes=61)):
        assert dana.get(f"/fhir/bulk-status/{completed.pk}").status_code == 404
        assert dana.get(f"/fhir/bulk-files/{completed.pk}/Patient.ndjson").status_code == 404


def test_an_export_whose_worker_was_lost_is_failed_and_frees_its_slot(dana, settings):
    settings.EXPORT_MAX_ACTIVE_PER_USER = 1
    settings.EXPORT_STALE_AFTER = timedelta(hours=2)
    job = job_of(dana.get(KICKOFF, **ASYNC))
    ExportJob.objects.filter(pk=job.pk).update(status="running", total=10, exported=3)

    with time_machine.travel(timezone.now() + timedelta(hours=2, minutes=1)):
        assert exports_sweep_task() == {"stalled": 1, "removed": 0}

        assert dana.get(f"/fhir/bulk-status/{job.pk}").status_code == 500
        assert dana.get(KICKOFF, **ASYNC).status_code == 202


def test_an_export_making_progress_is_not_stalled(dana, settings):
    settings.EXPORT_STALE_AFTER = timedelta(hours=2)
    job = job_of(dana.get(KICKOFF, **ASYNC))

    with time_machine.travel(timezone.now() + timedelta(hours=1)):
        ExportJob.objects.filter(pk=job.pk).update(status="running", heartbeat_at=timezone.now())
    with time_machine.travel(timezone.now() + timedelta(hours=2, minutes=30)):
        assert exports_sweep_task() == {"stalled": 0, "removed": 0}
