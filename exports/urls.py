"""URLs of the bulk export, under /fhir/ (included before fhir_r4's, which would take
`$export` for a patient id). Each with or without a trailing slash."""

from django.urls import re_path

from exports import views

urlpatterns = [
    re_path(r"^Patient/\$export/?$", views.PatientExportView.as_view(), name="export-kickoff"),
    re_path(
        r"^bulk-status/(?P<job_id>[^/]+)/?$",
        views.ExportStatusView.as_view(),
        name="export-status",
    ),
    re_path(
        r"^bulk-files/(?P<job_id>[^/]+)/(?P<file_name>[^/]+)/?$",
        views.ExportFileView.as_view(),
        name="export-file",
    ),
]
