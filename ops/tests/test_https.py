"""With DJANGO_HTTPS on (production's default), the probes and the metrics answer plain HTTP,
as a load balancer and a scraper on the private network call them; the status does not."""

import runpy
from http import HTTPStatus
from pathlib import Path

import pytest
from rest_framework.test import APIClient

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def https(settings, monkeypatch):
    """The redirect settings as telehealth/settings.py makes them with DJANGO_HTTPS=1."""
    monkeypatch.setenv("DJANGO_HTTPS", "1")
    production = runpy.run_path(str(ROOT / "telehealth" / "settings.py"))
    for name in ("SECURE_PROXY_SSL_HEADER", "SECURE_SSL_REDIRECT", "SECURE_REDIRECT_EXEMPT"):
        setattr(settings, name, production[name])


@pytest.mark.django_db
@pytest.mark.parametrize("path", ["/healthz", "/readyz/", "/metrics"])
def test_probes_and_metrics_answer_plain_http(https, path):
    response = APIClient().get(path)

    assert response.status_code == HTTPStatus.OK


@pytest.mark.django_db
def test_the_status_over_plain_http_is_redirected(https):
    response = APIClient().get("/health/status")

    assert response.status_code == HTTPStatus.MOVED_PERMANENTLY
    assert response["Location"] == "https://testserver/health/status"
