"""The whole export of 10,000 patients as a client sees it, run by a real Celery worker
process over the test's redis-server and database: kick-off, polling, download with the same
token, and a cancel while the worker writes."""

import re
from urllib.parse import urlsplit

import pytest
from fhir.resources.R4B.patient import Patient as FhirPatient

from audit.models import AccessRecord, Action
from exports.models import ExportJob
from exports.tests.conftest import ASYNC, KICKOFF, make_patients
from notifications.tests.conftest import wait_until
from patients.models import Patient

pytestmark = [pytest.mark.slow, pytest.mark.django_db(transaction=True)]

PATIENTS = 10_000
PROGRESS = re.compile(r"in progress: [\d,]+ of 10,000 patients")


def path(url: str) -> str:
    return urlsplit(url).path


def poll(client, url: str, progress: list[str]):
    """The status URL's answer once it is no longer 202; each 202's X-Progress is kept."""

    def answered():
        response = client.get(url)
        if response.status_code != 202:
            return response
        progress.append(response["X-Progress"])
        return None

    return wait_until(answered, timeout=60, interval=0.01, what="the export to finish")


def test_10000_patients_are_exported_polled_and_downloaded(
    dana, export_dir, start_worker, tmp_path
):
    make_patients(PATIENTS)
    start_worker(EXPORT_DIR=str(export_dir), EXPORT_CHUNK_SIZE="100")

    kickoff = dana.get(KICKOFF, **ASYNC)
    assert kickoff.status_code == 202
    progress: list[str] = []
    done = poll(dana, path(kickoff["Content-Location"]), progress)

    assert done.status_code == 200
    assert progress, "no 202 while the export ran"
    assert any(PROGRESS.fullmatch(p) for p in progress), progress
    manifest = done.json()
    assert manifest["output"][0]["count"] == PATIENTS

    download = dana.get(path(manifest["output"][0]["url"]))

    assert download.status_code == 200
    assert download["Content-Type"] == "application/fhir+ndjson"
    lines = b"".join(download.streaming_content).decode().splitlines()
    assert len(lines) == PATIENTS
    ids = [FhirPatient.model_validate_json(line).id for line in lines]
    assert ids == [
        str(pk) for pk in Patient.objects.order_by("created_at", "id").values_list("pk", flat=True)
    ]
    assert {oct(f.stat().st_mode & 0o777) for f in export_dir.iterdir()} == {"0o600"}
    # The audit: the kick-off, and the download naming every patient the file held.
    kicked, downloaded = AccessRecord.objects.filter(action=Action.PATIENT_EXPORT).order_by("id")
    assert (kicked.username, kicked.status, kicked.patients.count()) == ("dana", 202, 0)
    assert (downloaded.username, downloaded.status) == ("dana", 200)
    assert downloaded.patients.count() == PATIENTS
    # No patient data in the worker's log: ids and counts only.
    log = (tmp_path / "w1.log").read_text()
    assert "completed: 10000 patients" in log
    assert not any(secret in log for secret in ("Pat Example", "@example.com", "+1555"))


def test_delete_while_the_worker_writes_stops_it_and_leaves_no_file(
    dana, export_dir, start_worker, tmp_path
):
    make_patients(PATIENTS)
    start_worker(EXPORT_DIR=str(export_dir), EXPORT_CHUNK_SIZE="10")
    status_url = path(dana.get(KICKOFF, **ASYNC)["Content-Location"])

    wait_until(
        lambda: PROGRESS.fullmatch(dana.get(status_url).get("X-Progress", "")),
        timeout=30,
        interval=0.01,
        what="the worker to be writing",
    )
    cancel = dana.delete(status_url)

    assert cancel.status_code == 202
    assert dana.get(status_url).status_code == 404
    log = tmp_path / "w1.log"
    wait_until(lambda: "stopped: cancelled" in log.read_text(), what="the worker to stop")
    job = ExportJob.objects.get()
    assert job.status == "cancelled"
    assert 0 < job.exported < PATIENTS
    assert not export_dir.exists() or list(export_dir.iterdir()) == []
    assert f"export {job.pk} completed" not in log.read_text()


def test_an_export_the_broker_did_not_take_fails_at_once_and_frees_its_slot(
    dana, test_redis, settings
):
    settings.NOTIFICATION_PUBLISH_TIMEOUT = 0.5
    settings.EXPORT_MAX_ACTIVE_PER_USER = 1
    test_redis.freeze()
    try:
        kickoff = dana.get(KICKOFF, **ASYNC)
    finally:
        test_redis.thaw()

    assert kickoff.status_code == 202
    failed = dana.get(path(kickoff["Content-Location"]))
    assert failed.status_code == 500
    assert "could not be queued" in failed.json()["issue"][0]["diagnostics"]
    assert dana.get(KICKOFF, **ASYNC).status_code == 202
