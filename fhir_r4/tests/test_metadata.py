"""GET /fhir/metadata: the CapabilityStatement, without a token."""

import pytest

from fhir_r4.tests.checks import r4

pytestmark = pytest.mark.django_db


def test_metadata_is_an_r4_capability_statement_that_needs_no_token(anonymous):
    response = anonymous.get("/fhir/metadata")

    assert response.status_code == 200
    body = r4(response, "CapabilityStatement")
    assert (body["fhirVersion"], body["status"], body["kind"]) == ("4.0.1", "active", "instance")
    assert body["format"] == ["json"]
    assert body["instantiates"] == ["http://hl7.org/fhir/uv/bulkdata/CapabilityStatement/bulk-data"]


def test_metadata_names_the_patient_interactions_and_search_parameters(anonymous):
    body = anonymous.get("/fhir/metadata").json()

    (rest,) = body["rest"]
    assert rest["mode"] == "server"
    assert "Bearer" in rest["security"]["description"]
    assert "/auth/login" in rest["security"]["description"]
    (patient,) = rest["resource"]
    assert patient["type"] == "Patient"
    assert {i["code"] for i in patient["interaction"]} == {
        "read",
        "vread",
        "update",
        "create",
        "search-type",
        "history-instance",
    }
    assert patient["versioning"] == "versioned-update"
    assert patient["readHistory"] is True
    assert patient["updateCreate"] is False
    assert patient["conditionalCreate"] is False
    assert [p["name"] for p in patient["searchParam"]] == [
        "name",
        "email",
        "phone",
        "birthdate",
        "_id",
        "identifier",
        "_count",
    ]
    assert patient["operation"] == [
        {
            "name": "export",
            "definition": "http://hl7.org/fhir/uv/bulkdata/OperationDefinition/patient-export",
        }
    ]


def test_a_bad_token_does_not_stop_metadata(anonymous):
    anonymous.credentials(HTTP_AUTHORIZATION="Bearer not-a-token")

    assert anonymous.get("/fhir/metadata/").status_code == 200
