"""FHIR Bulk Data export (https://hl7.org/fhir/uv/bulkdata/): the kick-off, the status URL
(poll, cancel) and the files. Views parse, call one service or selector, and shape the
answer; every refusal is an OperationOutcome (fhir_r4's base view)."""

from django.http import FileResponse
from django.urls import reverse
from django.utils.http import http_date
from drf_spectacular.utils import extend_schema
from rest_framework import status
from rest_framework.permissions import IsAuthenticated
from rest_framework.response import Response

from api.exceptions import NotFoundError
from audit.mixins import AuditedViewMixin
from audit.models import Action
from exports.models import ExportJob
from exports.permissions import CanExportPatients
from exports.renderers import NDJSON, FileContentNegotiation
from exports.schema import (
    CANCEL_PARAMETERS,
    CANCEL_RESPONSES,
    FILE_PARAMETERS,
    FILE_RESPONSES,
    KICKOFF_PARAMETERS,
    KICKOFF_RESPONSES,
    STATUS_PARAMETERS,
    STATUS_RESPONSES,
)
from exports.selectors import (
    export_file_open,
    export_file_patient_ids,
    export_job_for,
    export_output_file,
)
from exports.services import export_cancel, export_start
from exports.validators import kickoff_parameters
from fhir_r4.outcomes import operation_outcome, outcome_of_issues
from fhir_r4.resources import fhir_instant
from fhir_r4.views import FhirAPIView

# How long a client polling a running export is asked to wait, in seconds.
POLL_RETRY_AFTER = 5
Status = ExportJob.Status


class ExportNotFound(NotFoundError):
    message = "No such export: unknown, not yours, cancelled or expired"


def _information(text: str) -> dict:
    return operation_outcome(code="informational", diagnostics=text, severity="information")


class _ExportView(FhirAPIView):
    permission_classes = [IsAuthenticated, CanExportPatients]

    def _job(self, request, job_id) -> ExportJob:
        # Another user's job is as unknown as a made-up id: its existence is not told.
        job = export_job_for(job_id=job_id, user=request.user)
        if job is None:
            raise ExportNotFound()
        return job


class PatientExportView(AuditedViewMixin, _ExportView):
    """`GET /fhir/Patient/$export`: start an export of every patient (or of those changed
    `_since`). Answers 202 with the status URL in Content-Location. Each kick-off is in the
    access audit (patient.export, with its status and no patients yet: the downloads name
    them)."""

    audit_actions = {"get": Action.PATIENT_EXPORT}
    audit_patient_kwarg = None
    # A HEAD must not start an export (Django would answer it with `get`).
    http_method_names = ["get"]

    @extend_schema(
        operation_id="fhir_patient_export",
        summary="Start a bulk export of patients (FHIR Bulk Data kick-off)",
        parameters=KICKOFF_PARAMETERS,
        responses=KICKOFF_RESPONSES,
        tags=["fhir"],
    )
    def get(self, request):
        prefer = request.headers.get("Prefer")
        params = kickoff_parameters(prefer=prefer, query=request.query_params)
        job = export_start(
            user=request.user, request_url=request.build_absolute_uri(), since=params.since
        )
        status_url = request.build_absolute_uri(reverse("export-status", args=[job.pk]))
        issues = [_information(f"Export accepted: poll {status_url}")["issue"][0]]
        if params.ignored:
            # Prefer: handling=lenient: the export went ahead without them; the client is told.
            names = ", ".join(name[:40] for name in params.ignored[:5])
            issues.append(
                {
                    "severity": "warning",
                    "code": "not-supported",
                    "diagnostics": f"Parameters not supported, ignored: {names}",
                }
            )
        return Response(
            outcome_of_issues(issues),
            status=status.HTTP_202_ACCEPTED,
            headers={"Content-Location": status_url},
        )


class ExportStatusView(_ExportView):
    """The status URL: `GET` polls (202 while queued or running, 200 with the manifest once
    complete, 500 if it failed), `DELETE` cancels. Shows no patient data, so it is not in
    the access audit."""

    http_method_names = ["get", "delete"]

    @extend_schema(
        operation_id="fhir_export_status",
        summary="Poll a bulk export",
        parameters=STATUS_PARAMETERS,
        responses=STATUS_RESPONSES,
        tags=["fhir"],
    )
    def get(self, request, job_id):
        job = self._job(request, job_id)
        if job.status in (Status.ACCEPTED, Status.RUNNING):
            return Response(
                _information(_progress(job)),
                status=status.HTTP_202_ACCEPTED,
                headers={"X-Progress": _progress(job), "Retry-After": str(POLL_RETRY_AFTER)},
            )
        if job.status == Status.FAILED:
            # The specification's error status: 5xx, as the failure is the server's (the
            # request was fine); not a transient code, as polling again will not help.
            return Response(
                operation_outcome(code="exception", diagnostics=job.error, severity="fatal"),
                status=status.HTTP_500_INTERNAL_SERVER_ERROR,
            )
        return Response(
            _manifest(request, job),
            content_type="application/json",  # the specification's, not FHIR's
            headers={"Expires": http_date(job.expires_at.timestamp())},
        )

    @extend_schema(
        operation_id="fhir_export_cancel",
        summary="Cancel a bulk export, or remove its files",
        parameters=CANCEL_PARAMETERS,
        responses=CANCEL_RESPONSES,
        tags=["fhir"],
    )
    def delete(self, request, job_id):
        export_cancel(job=self._job(request, job_id))
        return Response(
            _information("Export cancelled; its files are removed"),
            status=status.HTTP_202_ACCEPTED,
        )


def _progress(job: ExportJob) -> str:
    if job.status == Status.ACCEPTED or job.total is None:
        return "queued"
    return f"in progress: {job.exported:,} of {job.total:,} patients"


def _manifest(request, job: ExportJob) -> dict:
    return {
        "transactionTime": fhir_instant(job.transaction_time),
        "request": job.request_url,
        "requiresAccessToken": True,
        "output": [
            {
                "type": entry["type"],
                "url": request.build_absolute_uri(
                    reverse("export-file", args=[job.pk, entry["file"]])
                ),
                "count": entry["count"],
            }
            for entry in job.output
        ],
        "error": [],
    }


class ExportFileView(AuditedViewMixin, _ExportView):
    """A file of a completed export, streamed from the storage. Each download is in the
    access audit with the ids of every patient the file holds: who received whose data."""

    audit_actions = {"get": Action.PATIENT_EXPORT}
    audit_patient_kwarg = None
    content_negotiation_class = FileContentNegotiation
    # A HEAD would be recorded as a download of every patient in the file, without one.
    http_method_names = ["get"]

    @extend_schema(
        operation_id="fhir_export_file",
        summary="Download a bulk export's file",
        parameters=FILE_PARAMETERS,
        responses=FILE_RESPONSES,
        tags=["fhir"],
    )
    def get(self, request, job_id, file_name):
        job = self._job(request, job_id)
        entry = export_output_file(job, file_name)
        # The ids first: a cancel or the sweep may be removing the files meanwhile, and a
        # file whose ids are gone is not served, as its download could not name them.
        patient_ids = export_file_patient_ids(entry) if entry is not None else None
        content = export_file_open(entry) if patient_ids is not None else None
        if content is None:
            raise ExportNotFound()
        self.audit_patients(patient_ids)
        response = FileResponse(content, content_type=NDJSON, filename=entry["file"])
        response.block_size = 64 * 1024
        return response
