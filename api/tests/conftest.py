"""Fixtures for the hostile-input tests: a patient to aim at, and the three writing calls."""

import pytest

from patients.models import Patient
from patients.tests.factories import PatientFactory


@pytest.fixture
def patient(db) -> Patient:
    return PatientFactory(name="Existing Patient")


@pytest.fixture(params=["post", "put", "patch"])
def write(request, alice, patient):
    """Sends raw bytes to one of the writing calls: POST /patients, PUT or PATCH /patients/<id>."""
    path = "/patients" if request.param == "post" else f"/patients/{patient.pk}"
    send = getattr(alice, request.param)

    def write(data: bytes, content_type: str = "application/json", **extra):
        return send(path, data=data, content_type=content_type, **extra)

    return write
