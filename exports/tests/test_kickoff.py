"""The kick-off, `GET /fhir/Patient/$export`: who may start an export, with which parameters,
how many at once, and what the audit keeps of it. No worker runs here (the task is never
published: these tests' transactions do not commit)."""

from datetime import UTC, datetime

import pytest
from fhir.resources.R4B.operationoutcome import OperationOutcome

from audit.models import AccessRecord, Action
from exports.models import ExportJob
from exports.tests.conftest import ASYNC, KICKOFF, job_of

pytestmark = pytest.mark.django_db


def outcome(response) -> OperationOutcome:
    assert response["Content-Type"] == "application/fhir+json"
    return OperationOutcome.model_validate(response.json())


def test_kickoff_answers_202_with_the_absolute_status_url(dana):
    response = dana.get(KICKOFF, **ASYNC)

    assert response.status_code == 202
    job = job_of(response)
    assert response["Content-Location"] == f"http://testserver/fhir/bulk-status/{job.pk}"
    assert outcome(response).issue[0].severity == "information"
    assert (job.status, job.requested_by, job.since) == ("accepted", dana.user, None)
    assert job.request_url == "http://testserver/fhir/Patient/$export"


def test_kickoff_accepts_the_specifications_parameters(dana):
    response = dana.get(
        KICKOFF,
        {
            "_outputFormat": "application/fhir+ndjson",
            "_type": "Patient",
            "_since": "2024-05-01T02:00:00+02:00",
        },
        HTTP_PREFER="respond-async, handling=lenient",
    )

    assert response.status_code == 202
    assert job_of(response).since == datetime(2024, 5, 1, tzinfo=UTC)


@pytest.mark.parametrize("types", ["Patient,Patient", "Patient, Patient", " Patient "])
def test_type_is_a_comma_separated_list_of_patient(dana, types):
    response = dana.get(KICKOFF, {"_type": types}, **ASYNC)

    assert response.status_code == 202


@pytest.mark.parametrize(
    "query",
    [
        {"_typeFilter": "Patient?name=doe"},
        {"_elements": "id"},
        {"patient": "Patient/123"},
        {"includeAssociatedData": "LatestProvenanceResources"},
        {"_anything": "x", "_type": "Patient"},
    ],
)
def test_an_unsupported_parameter_is_a_400_and_starts_nothing(dana, query):
    response = dana.get(KICKOFF, query, **ASYNC)

    assert response.status_code == 400
    issue = outcome(response).issue[0]
    assert (issue.severity, issue.code) == ("error", "not-supported")
    assert next(iter(query)) in issue.diagnostics
    assert not ExportJob.objects.exists()


def test_with_handling_lenient_an_unsupported_parameter_is_ignored_and_named(dana):
    response = dana.get(
        KICKOFF,
        {"_typeFilter": "Patient?name=doe", "_elements": "id"},
        HTTP_PREFER="respond-async, handling=lenient",
    )

    assert response.status_code == 202
    warning = outcome(response).issue[1]
    assert (warning.severity, warning.code) == ("warning", "not-supported")
    assert warning.diagnostics == "Parameters not supported, ignored: _elements, _typeFilter"
    assert job_of(response).since is None  # a full export, as the client accepted


def test_the_format_parameter_is_content_negotiation_not_an_unsupported_one(dana):
    assert dana.get(KICKOFF, {"_format": "json"}, **ASYNC).status_code == 202
    assert dana.get(KICKOFF, {"_format": "xml"}, **ASYNC).status_code == 406


@pytest.mark.parametrize(
    ("headers", "query", "says"),
    [
        ({}, {}, "Prefer: respond-async"),
        ({"HTTP_PREFER": "respond-sync"}, {}, "Prefer: respond-async"),
        (ASYNC, {"_outputFormat": "application/fhir+json"}, "_outputFormat"),
        (ASYNC, {"_type": "Observation"}, "_type"),
        (ASYNC, {"_type": "Patient,Observation"}, "_type"),
        (ASYNC, {"_type": "Patient,"}, "_type"),
        (ASYNC, {"_since": "2024-05-01"}, "_since"),
        (ASYNC, {"_since": "2024-05-01T00:00:00"}, "_since"),
        (ASYNC, {"_since": "yesterday"}, "_since"),
    ],
)
def test_a_bad_kickoff_is_a_400_operation_outcome_and_starts_nothing(dana, headers, query, says):
    response = dana.get(KICKOFF, query, **headers)

    assert response.status_code == 400
    issue = outcome(response).issue[0]
    assert (issue.severity, issue.code) == ("error", "invalid")
    assert says in issue.diagnostics
    assert not ExportJob.objects.exists()


def test_users_without_the_export_permission_get_403(alice, carol, mallory):
    for client in (alice, carol, mallory):  # clinician, auditor, no role
        response = client.get(KICKOFF, **ASYNC)

        assert response.status_code == 403
        assert outcome(response).issue[0].code == "forbidden"
    assert not ExportJob.objects.exists()


def test_without_a_token_the_kickoff_is_401(anonymous):
    response = anonymous.get(KICKOFF, **ASYNC)

    assert response.status_code == 401
    assert outcome(response).issue[0].code == "login"


def test_a_user_with_too_many_exports_in_progress_gets_429_with_retry_after(dana, erin, settings):
    settings.EXPORT_MAX_ACTIVE_PER_USER = 2
    assert dana.get(KICKOFF, **ASYNC).status_code == 202
    assert dana.get(KICKOFF, **ASYNC).status_code == 202

    refused = dana.get(KICKOFF, **ASYNC)

    assert refused.status_code == 429
    assert int(refused["Retry-After"]) > 0
    assert outcome(refused).issue[0].code == "throttled"
    assert ExportJob.objects.filter(requested_by=dana.user).count() == 2
    # The limit is each user's: another one still may.
    assert erin.get(KICKOFF, **ASYNC).status_code == 202


def test_a_finished_export_frees_its_slot(dana, settings):
    settings.EXPORT_MAX_ACTIVE_PER_USER = 1
    first = job_of(dana.get(KICKOFF, **ASYNC))
    ExportJob.objects.filter(pk=first.pk).update(status=ExportJob.Status.COMPLETED)

    assert dana.get(KICKOFF, **ASYNC).status_code == 202


def test_a_head_request_starts_no_export(dana):
    response = dana.head(KICKOFF, **ASYNC)

    assert response.status_code == 405
    assert not ExportJob.objects.exists()


def test_each_kickoff_is_in_the_access_audit_refusals_included(dana, mallory):
    dana.get(KICKOFF, **ASYNC)
    dana.get(KICKOFF)
    mallory.get(KICKOFF, **ASYNC)

    records = AccessRecord.objects.filter(action=Action.PATIENT_EXPORT).order_by("id")
    assert [(r.username, r.status, r.path) for r in records] == [
        ("dana", 202, KICKOFF),
        ("dana", 400, KICKOFF),
        ("mallory", 403, KICKOFF),
    ]


def test_a_data_manager_may_export_but_not_read_patients_through_the_rest_api(dana):
    assert dana.get("/patients").status_code == 403
    assert dana.get(KICKOFF, **ASYNC).status_code == 202
