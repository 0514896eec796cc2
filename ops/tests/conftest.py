"""Fixtures of the ops tests: a staff user's API client, the monitoring system's token, the
metrics as a scrape reads them, and (from notifications) real Celery worker processes."""

import pytest
from prometheus_client.parser import text_string_to_metric_families
from rest_framework.test import APIClient

from accounts.services import token_issue
from accounts.tests.factories import UserFactory
from notifications.tests.conftest import start_worker  # noqa: F401  (a fixture)

METRICS_TOKEN = "metrics-token-for-tests-0123456789abcdefghijkl"
STAFF_PASSWORD = "correct horse battery"


@pytest.fixture
def staff_user(db):
    """Sam, staff with no role: may see the dependency status, not patients."""
    return UserFactory(username="sam", password=STAFF_PASSWORD, staff=True)


@pytest.fixture
def staff(staff_user) -> APIClient:
    _, token = token_issue(username=staff_user.username)
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {token}")
    return client


@pytest.fixture
def metrics_token(settings) -> str:
    settings.METRICS_TOKEN = METRICS_TOKEN
    return METRICS_TOKEN


def bearer(token: str, **extra) -> APIClient:
    client = APIClient(**extra)
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {token}")
    return client


def samples(text: str) -> dict[tuple[str, frozenset], float]:
    """A scrape's samples: (name, its labels) -> value."""
    return {
        (sample.name, frozenset(sample.labels.items())): sample.value
        for family in text_string_to_metric_families(text)
        for sample in family.samples
    }


def value(text: str, name: str, **labels) -> float:
    """One sample of a scrape; 0 if the scrape does not have it (a counter not yet used)."""
    return samples(text).get((name, frozenset(labels.items())), 0.0)


@pytest.fixture
def scrape():
    """GET /metrics from loopback (no METRICS_TOKEN), its text."""

    def get() -> str:
        response = APIClient().get("/metrics")
        assert response.status_code == 200, response.content
        return response.content.decode()

    return get
