"""URLs of the FHIR R4 API under /fhir/, each with or without a trailing slash. Bulk export's
paths (exports.urls) are routed before these."""

from django.urls import re_path

from fhir_r4 import views

# An id is anything up to the next slash, so a malformed one gets FHIR's 404, not a bare one.
_ID = r"(?P<pk>[^/]+)"

urlpatterns = [
    re_path(r"^metadata/?$", views.CapabilityStatementView.as_view(), name="fhir-metadata"),
    re_path(r"^Patient/?$", views.PatientTypeView.as_view(), name="fhir-patient-type"),
    re_path(r"^Patient/_search/?$", views.PatientSearchView.as_view(), name="fhir-patient-search"),
    re_path(rf"^Patient/{_ID}/?$", views.PatientInstanceView.as_view(), name="fhir-patient"),
    re_path(
        rf"^Patient/{_ID}/_history/?$",
        views.PatientHistoryView.as_view(),
        name="fhir-patient-history",
    ),
    re_path(
        rf"^Patient/{_ID}/_history/(?P<vid>[^/]+)/?$",
        views.PatientVersionView.as_view(),
        name="fhir-patient-version",
    ),
    re_path(r"^", views.UnknownFhirPathView.as_view()),
]
