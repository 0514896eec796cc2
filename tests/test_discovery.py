"""What an integrating developer finds first: the API root, the OpenAPI schema and its docs."""

import os
from http import HTTPStatus

import pytest
from django.core.management import call_command
from rest_framework.test import APIClient

pytestmark = pytest.mark.django_db


def test_api_root_links_the_resources():
    response = APIClient().get("/")

    assert response.status_code == HTTPStatus.OK
    assert response.json()["patients"] == "http://testserver/patients"
    assert response.json()["login"] == "http://testserver/auth/login"


def test_openapi_schema_generates_without_warnings():
    call_command("spectacular", "--validate", "--fail-on-warn", "--file", os.devnull)


def test_schema_documents_the_contract_paths_and_bearer_auth():
    response = APIClient().get("/api/schema/", HTTP_ACCEPT="application/vnd.oai.openapi+json")

    assert response.status_code == HTTPStatus.OK
    schema = response.json()
    assert {"/patients", "/patients/{id}", "/auth/login"} <= set(schema["paths"])
    assert set(schema["paths"]["/patients/{id}"]) >= {"get", "put", "patch", "delete"}
    assert schema["components"]["securitySchemes"]["bearerAuth"]["scheme"] == "bearer"


def test_swagger_ui_is_served_without_a_cdn():
    response = APIClient().get("/api/docs/")

    assert response.status_code == HTTPStatus.OK
    assert b"swagger-ui" in response.content
    assert b"cdn.jsdelivr.net" not in response.content
