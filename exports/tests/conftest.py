"""Fixtures for the bulk export: data managers with tokens, the exports' storage in the test's
own directory, and patients made in bulk."""

from datetime import date

import pytest
from rest_framework.test import APIClient

from accounts.services import token_issue
from exports.models import ExportJob
from notifications.tests.conftest import start_worker  # noqa: F401  (a fixture)
from patients.models import Patient

KICKOFF = "/fhir/Patient/$export"
ASYNC = {"HTTP_PREFER": "respond-async"}


def data_manager(username: str) -> APIClient:
    user, token = token_issue(username=username, create=True, role="data_manager")
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {token}")
    client.user = user
    return client


@pytest.fixture
def dana(roles) -> APIClient:
    """A data manager: may export."""
    return data_manager("dana")


@pytest.fixture
def erin(roles) -> APIClient:
    """Another data manager."""
    return data_manager("erin")


@pytest.fixture
def export_dir(settings, tmp_path):
    """The exports' storage, as settings.py makes it, in this test's directory."""
    location = tmp_path / "exports"
    settings.STORAGES = {
        **settings.STORAGES,
        "exports": {
            "BACKEND": "django.core.files.storage.FileSystemStorage",
            "OPTIONS": {
                "location": location,
                "file_permissions_mode": 0o600,
                "directory_permissions_mode": 0o700,
            },
        },
    }
    return location


def make_patients(count: int, *, start: int = 0) -> list[Patient]:
    """Valid patients, in one INSERT batch per thousand (fast enough for 10,000)."""
    return Patient.objects.bulk_create(
        (
            Patient(
                name=f"Pat Example{n}",
                email=f"patient{n}@example.com",
                phone=f"+1555{n:07d}",
                birth_date=date(1950 + n % 60, 1 + n % 12, 1 + n % 28),
                preferred_channel="email" if n % 2 else "sms",
            )
            for n in range(start, start + count)
        ),
        batch_size=1000,
    )


def job_of(response) -> ExportJob:
    """The job a kick-off's Content-Location names."""
    return ExportJob.objects.get(pk=response["Content-Location"].rstrip("/").rsplit("/", 1)[1])
