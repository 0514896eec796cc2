"""Shared fixtures: a cast of staff users, one per role, and API clients holding their tokens.

Alice is a clinician (all permissions), Bob works the front desk (no delete), Carol is an
auditor (read only) and Mallory is a staff user with no role at all.
"""

import contextlib
import os
from pathlib import Path

import pytest
from django.conf import settings
from django.core.cache import caches
from redis.exceptions import RedisError
from rest_framework.test import APIClient

from accounts.services import roles_setup, token_issue
from scripts.redis_server import RedisServer, RedisUnavailable
from telehealth.celery import app as celery_app

# A closed port: with no test Redis, publishing fails at once and nothing reaches a real one.
NO_REDIS_URL = "redis://127.0.0.1:1/0"
_test_redis: RedisServer | None = None


def pytest_configure(config):
    test_name = settings.DATABASES["default"].get("TEST", {}).get("NAME")
    if test_name:
        Path(test_name).parent.mkdir(parents=True, exist_ok=True)
    _use_test_redis(config)


def _use_test_redis(config) -> None:
    """The broker of the whole run: a redis-server of our own on a free port (never a Redis
    the machine already runs, which tests would fill and which some tests stop)."""
    global _test_redis
    try:
        _test_redis = RedisServer(Path(config.rootpath) / "var" / "test-redis")
        url = _test_redis.start()
    except RedisUnavailable:
        _test_redis, url = None, NO_REDIS_URL
    os.environ["REDIS_URL"] = url  # worker processes started by tests inherit it
    settings.REDIS_URL = settings.CELERY_BROKER_URL = url
    # The API's rate-limit counters: in the same server's database 1, apart from the broker's
    # queues, so each test can start them afresh (_fresh_throttle_counters).
    settings.CACHES["throttle"]["LOCATION"] = url.rsplit("/", 1)[0] + "/1"
    celery_app.conf.broker_url = url


def pytest_unconfigure(config):
    if _test_redis is not None:
        _test_redis.stop()


@pytest.fixture(scope="session")
def test_redis() -> RedisServer:
    """The run's redis-server, for tests that need a real broker (and may stop it)."""
    if _test_redis is None:
        pytest.skip("no redis-server for this platform: install one to run these tests")
    return _test_redis


@pytest.fixture(autouse=True)
def _plain_static_storage(settings):
    # The hashed-name manifest exists only after collectstatic, which tests do not run.
    settings.STORAGES = {
        **settings.STORAGES,
        "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
    }


@pytest.fixture(autouse=True)
def _fresh_cache():
    # Per-process caches outlive a test.
    caches["default"].clear()


@pytest.fixture(autouse=True)
def _fresh_throttle_counters():
    # Each test starts within every rate limit. Without a test Redis (or with one a test left
    # stopped) there is nothing to clear, and the throttles let requests through.
    with contextlib.suppress(RedisError, OSError):
        caches["throttle"].clear()


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
