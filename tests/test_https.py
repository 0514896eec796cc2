"""With DJANGO_HTTPS on (production's default): plain HTTP is redirected, except the health
checks, HTTPS answers carry HSTS, and cookies are sent over HTTPS only."""

import runpy
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
HTTPS_SETTINGS = [
    "SECURE_PROXY_SSL_HEADER",
    "SECURE_SSL_REDIRECT",
    "SECURE_REDIRECT_EXEMPT",
    "SECURE_HSTS_SECONDS",
    "SECURE_HSTS_INCLUDE_SUBDOMAINS",
    "SECURE_HSTS_PRELOAD",
    "SESSION_COOKIE_SECURE",
    "CSRF_COOKIE_SECURE",
]
# What the TLS-terminating proxy adds to every request it forwards.
OVER_HTTPS = {"HTTP_X_FORWARDED_PROTO": "https"}


@pytest.fixture
def https(settings, monkeypatch):
    """The settings as telehealth/settings.py makes them with DJANGO_HTTPS=1 (read from the
    file itself, so these tests follow it), over the test run's plain-HTTP ones."""
    monkeypatch.setenv("DJANGO_HTTPS", "1")
    production = runpy.run_path(str(ROOT / "telehealth" / "settings.py"))
    for name in HTTPS_SETTINGS:
        setattr(settings, name, production[name])
    return settings


@pytest.mark.parametrize("path", ["/", "/patients", "/patients?search=x", "/admin/", "/auth/login"])
def test_plain_http_is_redirected_to_https(https, client, path):
    response = client.get(path)

    assert response.status_code == 301
    assert response["Location"] == f"https://testserver{path}"


@pytest.mark.parametrize("path", ["/healthz", "/readyz", "/healthz/"])
def test_health_checks_are_answered_over_plain_http(https, client, path):
    response = client.get(path)

    assert response.status_code != 301  # whatever the check answers, not a redirect


def test_https_answers_carry_hsts_for_a_year_with_subdomains(https, client):
    response = client.get("/", **OVER_HTTPS)

    assert response.status_code == 200
    assert response["Strict-Transport-Security"] == "max-age=31536000; includeSubDomains"


def test_the_session_and_csrf_cookies_are_secure(https, client, admin_user):
    login_page = client.get("/admin/login/", **OVER_HTTPS)
    logged_in = client.post(
        "/admin/login/",
        {"username": "admin", "password": "password", "next": "/admin/"},
        **OVER_HTTPS,
    )

    assert login_page.cookies["csrftoken"]["secure"] is True
    assert logged_in.status_code == 302, logged_in.content
    assert logged_in.cookies["sessionid"]["secure"] is True
    assert logged_in.cookies["sessionid"]["httponly"] is True


def test_without_https_plain_http_is_served(client):
    """The test run's own setting (DJANGO_HTTPS=0, as make run's)."""
    response = client.get("/")

    assert response.status_code == 200
    assert "Strict-Transport-Security" not in response
