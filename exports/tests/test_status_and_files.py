"""The status URL and the files, with the export run in-process (exports.services.export_run,
what the task calls): who sees a job, what each state answers, the download and its audit,
cancelling, and a run that starts again."""

import json
import os
from datetime import UTC, datetime

import pytest
import time_machine
from fhir.resources.R4B.operationoutcome import OperationOutcome
from fhir.resources.R4B.patient import Patient as FhirPatient

from audit.models import AccessRecord, Action
from exports.models import ExportJob
from exports.services import EXPORT_MAX_ATTEMPTS, export_run
from exports.tests.conftest import ASYNC, KICKOFF, job_of, make_patients
from patients.models import Patient

pytestmark = pytest.mark.django_db


def kickoff(client, **query) -> ExportJob:
    return job_of(client.get(KICKOFF, query, **ASYNC))


def status_url(job: ExportJob) -> str:
    return f"/fhir/bulk-status/{job.pk}"


def file_lines(response) -> list[str]:
    return b"".join(response.streaming_content).decode().splitlines()


@pytest.fixture
def completed(dana, export_dir):
    """Dana's export of 25 patients, run to the end."""
    make_patients(25)
    job = kickoff(dana)
    assert export_run(job_id=job.pk) == "completed"
    return job


def test_a_queued_export_answers_202_with_its_progress(dana):
    job = kickoff(dana)

    response = dana.get(status_url(job))

    assert response.status_code == 202
    assert response["X-Progress"] == "queued"
    assert int(response["Retry-After"]) > 0
    assert OperationOutcome.model_validate(response.json()).issue[0].severity == "information"


def test_a_running_export_reports_how_many_patients_it_has_written(dana):
    job = kickoff(dana)
    ExportJob.objects.filter(pk=job.pk).update(status="running", total=10000, exported=4000)

    response = dana.get(status_url(job))

    assert response.status_code == 202
    assert response["X-Progress"] == "in progress: 4,000 of 10,000 patients"


def test_a_completed_export_answers_the_manifest(dana, completed):
    response = dana.get(status_url(completed))

    assert response.status_code == 200
    assert response["Content-Type"] == "application/json"
    assert response["Expires"]
    manifest = response.json()
    completed.refresh_from_db()
    assert manifest == {
        "transactionTime": completed.transaction_time.isoformat().replace("+00:00", "Z"),
        "request": "http://testserver/fhir/Patient/$export",
        "requiresAccessToken": True,
        "output": [
            {
                "type": "Patient",
                "url": f"http://testserver/fhir/bulk-files/{completed.pk}/Patient.ndjson",
                "count": 25,
            }
        ],
        "error": [],
    }


def test_the_file_is_ndjson_of_valid_r4_patients_in_a_stable_order(dana, completed):
    response = dana.get(f"/fhir/bulk-files/{completed.pk}/Patient.ndjson")

    assert response.status_code == 200
    assert response["Content-Type"] == "application/fhir+ndjson"
    lines = file_lines(response)
    patients = [FhirPatient.model_validate_json(line) for line in lines]
    expected = Patient.objects.order_by("created_at", "id")
    assert [p.id for p in patients] == [str(pk) for pk in expected.values_list("pk", flat=True)]
    assert all(line == json.dumps(json.loads(line), separators=(",", ":")) for line in lines)


def test_a_download_is_audited_with_every_patient_in_the_file(dana, completed):
    dana.get(f"/fhir/bulk-files/{completed.pk}/Patient.ndjson")

    record = AccessRecord.objects.get(action=Action.PATIENT_EXPORT, status=200)
    assert record.username == "dana"
    assert record.path == f"/fhir/bulk-files/{completed.pk}/Patient.ndjson"
    assert set(record.patients.values_list("patient_id", flat=True)) == set(
        Patient.objects.values_list("pk", flat=True)
    )


def test_the_stored_files_are_readable_by_their_owner_only(completed, export_dir):
    files = sorted(export_dir.iterdir())

    assert [f.name for f in files] == [
        f"{completed.pk}.Patient.ids",
        f"{completed.pk}.Patient.ndjson",
    ]
    assert {oct(os.stat(f).st_mode & 0o777) for f in files} == {"0o600"}
    assert oct(os.stat(export_dir).st_mode & 0o777) == "0o700"


def test_since_exports_only_the_patients_changed_after_it(dana, export_dir):
    with time_machine.travel(datetime(2024, 1, 1, tzinfo=UTC)):
        make_patients(3)
    with time_machine.travel(datetime(2024, 6, 1, tzinfo=UTC)):
        recent = make_patients(2, start=3)
    job = kickoff(dana, _since="2024-03-01T00:00:00Z")

    export_run(job_id=job.pk)

    lines = file_lines(dana.get(f"/fhir/bulk-files/{job.pk}/Patient.ndjson"))
    assert sorted(json.loads(line)["id"] for line in lines) == sorted(str(p.pk) for p in recent)


def test_a_file_whose_patient_ids_are_gone_is_404_and_not_served(dana, completed, export_dir):
    # A cancel or the sweep removing the files (the ids first) while a download starts.
    (export_dir / f"{completed.pk}.Patient.ids").unlink()

    response = dana.get(f"/fhir/bulk-files/{completed.pk}/Patient.ndjson")

    assert response.status_code == 404
    assert not response.streaming
    assert OperationOutcome.model_validate(response.json()).issue[0].code == "not-found"
    assert not AccessRecord.objects.filter(status=200).exists()


def test_an_export_of_no_patients_lists_no_file(dana, export_dir):
    job = kickoff(dana)

    assert export_run(job_id=job.pk) == "completed"

    manifest = dana.get(status_url(job)).json()
    assert (manifest["output"], manifest["error"]) == ([], [])
    assert not export_dir.exists() or list(export_dir.iterdir()) == []
    assert dana.get(f"/fhir/bulk-files/{job.pk}/Patient.ndjson").status_code == 404


def test_another_users_export_is_404_to_them(dana, erin, completed):
    for response in (
        erin.get(status_url(completed)),
        erin.delete(status_url(completed)),
        erin.get(f"/fhir/bulk-files/{completed.pk}/Patient.ndjson"),
    ):
        assert response.status_code == 404
        assert OperationOutcome.model_validate(response.json()).issue[0].code == "not-found"
    assert dana.get(status_url(completed)).status_code == 200


def test_unknown_jobs_and_files_are_404(dana, completed):
    assert dana.get("/fhir/bulk-status/not-a-uuid").status_code == 404
    assert dana.get(f"/fhir/bulk-files/{completed.pk}/Observation.ndjson").status_code == 404
    assert dana.get(f"/fhir/bulk-files/{completed.pk}/..%2F..%2Fsecret-key").status_code == 404


def test_a_user_whose_role_was_taken_away_gets_403_for_the_files(dana, completed):
    dana.user.groups.clear()

    assert dana.get(f"/fhir/bulk-files/{completed.pk}/Patient.ndjson").status_code == 403


def test_delete_cancels_removes_the_files_and_the_status_url_then_answers_404(
    dana, completed, export_dir, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):  # the files go once committed
        response = dana.delete(status_url(completed))

    assert response.status_code == 202
    assert list(export_dir.iterdir()) == []
    assert dana.get(status_url(completed)).status_code == 404
    assert dana.get(f"/fhir/bulk-files/{completed.pk}/Patient.ndjson").status_code == 404


def test_a_cancelled_job_is_not_run(dana, export_dir):
    job = kickoff(dana)
    dana.delete(status_url(job))

    assert export_run(job_id=job.pk) == "skipped"
    assert not export_dir.exists() or list(export_dir.iterdir()) == []


def test_a_failed_export_answers_500_with_an_operation_outcome(dana):
    job = kickoff(dana)
    ExportJob.objects.filter(pk=job.pk).update(status="failed", error="The export failed")

    response = dana.get(status_url(job))

    assert response.status_code == 500
    issue = OperationOutcome.model_validate(response.json()).issue[0]
    assert (issue.severity, issue.code, issue.diagnostics) == (
        "fatal",
        "exception",
        "The export failed",
    )


def test_running_a_job_again_starts_it_afresh_with_the_same_files(dana, export_dir):
    # What a task redelivered after its worker died does.
    make_patients(5)
    job = kickoff(dana)
    export_run(job_id=job.pk)
    ExportJob.objects.filter(pk=job.pk).update(status="running")  # as if killed at the end

    assert export_run(job_id=job.pk) == "completed"

    job.refresh_from_db()
    assert (job.attempts, job.exported, job.output[0]["count"]) == (2, 5, 5)
    assert len(list(export_dir.iterdir())) == 2  # replaced, not Patient_<random>.ndjson
    assert len(file_lines(dana.get(f"/fhir/bulk-files/{job.pk}/Patient.ndjson"))) == 5


def test_a_job_that_keeps_killing_its_worker_fails_after_its_attempts(dana, export_dir):
    job = kickoff(dana)
    ExportJob.objects.filter(pk=job.pk).update(status="running", attempts=EXPORT_MAX_ATTEMPTS)

    assert export_run(job_id=job.pk) == "skipped"

    assert dana.get(status_url(job)).status_code == 500


def test_a_storage_that_refuses_the_file_fails_the_export_with_a_500(dana, export_dir, settings):
    not_a_folder = export_dir.parent / "not-a-folder"
    not_a_folder.write_text("")
    exports = settings.STORAGES["exports"]
    settings.STORAGES = {
        **settings.STORAGES,
        "exports": {**exports, "OPTIONS": {**exports["OPTIONS"], "location": not_a_folder}},
    }
    make_patients(2)
    job = kickoff(dana)

    assert export_run(job_id=job.pk) == "failed"

    response = dana.get(status_url(job))
    assert response.status_code == 500
    assert response.json()["issue"][0]["diagnostics"].startswith("The export failed (")
