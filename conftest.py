"""Shared fixtures: a cast of staff users, one per role, and API clients holding their tokens.

Alice is a clinician (all permissions), Bob works the front desk (no delete), Carol is an
auditor (read only) and Mallory is a staff user with no role at all.
"""

from pathlib import Path

import pytest
from django.conf import settings
from django.core.cache import caches
from rest_framework.test import APIClient

from patients.access import roles_setup, token_issue


def pytest_configure(config):
    test_name = settings.DATABASES["default"].get("TEST", {}).get("NAME")
    if test_name:
        Path(test_name).parent.mkdir(parents=True, exist_ok=True)


@pytest.fixture(autouse=True)
def _plain_static_storage(settings):
    # The hashed-name manifest exists only after collectstatic, which tests do not run.
    settings.STORAGES = {
        **settings.STORAGES,
        "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
    }


@pytest.fixture(autouse=True)
def _fresh_cache():
    # Per-process caches outlive a test; the "shared" one is a table, rolled back with the test.
    caches["default"].clear()


@pytest.fixture
def roles(db):
    roles_setup()


def _client(username: str, role: str | None) -> APIClient:
    _, token = token_issue(username=username, create=True, role=role)
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {token}")
    client.token = token
    return client


@pytest.fixture
def alice(roles) -> APIClient:
    return _client("alice", "clinician")


@pytest.fixture
def bob(roles) -> APIClient:
    return _client("bob", "front_desk")


@pytest.fixture
def carol(roles) -> APIClient:
    return _client("carol", "auditor")


@pytest.fixture
def mallory(roles) -> APIClient:
    return _client("mallory", None)


@pytest.fixture
def anonymous() -> APIClient:
    return APIClient()
