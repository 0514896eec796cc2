"""Errors Django answers itself, outside any view (too many fields, an unexpected error): an
OperationOutcome under /fhir, the API's JSON elsewhere."""

import pytest
from django.test import RequestFactory

from api.views import server_error
from fhir_r4.tests.checks import outcome

pytestmark = pytest.mark.django_db


def test_too_many_query_fields_under_fhir_is_a_400_operation_outcome(alice, settings):
    settings.DATA_UPLOAD_MAX_NUMBER_FIELDS = 10
    query = "&".join(f"name{n}=a" for n in range(20))

    response = alice.get(f"/fhir/Patient?{query}")

    outcome(response, 400, "invalid")


def test_too_many_query_fields_elsewhere_keeps_the_apis_json(alice, settings):
    settings.DATA_UPLOAD_MAX_NUMBER_FIELDS = 10
    query = "&".join(f"x{n}=a" for n in range(20))

    response = alice.get(f"/patients?{query}")

    assert response.status_code == 400
    assert response.json() == {"error": "Bad request"}


def test_an_unexpected_error_under_fhir_is_a_500_operation_outcome():
    response = server_error(RequestFactory().get("/fhir/Patient"))

    assert response.status_code == 500
    assert response["Content-Type"] == "application/fhir+json"
    assert b'"resourceType": "OperationOutcome"' in response.content
    assert b'"code": "exception"' in response.content
