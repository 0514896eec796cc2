"""No answer ever shows a stack trace, the settings or SQL: an error in any view is a JSON 500
(DEBUG is off, as in production), and the admin's errors are JSON too, not Django's debug page.

The views that raise are mounted by this module, which is also the URLconf of its tests."""

import pytest
from django.urls import path
from rest_framework.decorators import api_view, permission_classes
from rest_framework.permissions import AllowAny

from telehealth import urls as project_urls

# What an unexpected error could otherwise show: SQL with a patient's name in it.
LEAK = "SELECT * FROM patients_patient WHERE name = 'Zelda Quill'"


def _django_view_that_fails(request):
    raise RuntimeError(LEAK)


@api_view(["GET", "POST"])
@permission_classes([AllowAny])
def _api_view_that_fails(request):
    raise RuntimeError(LEAK)


urlpatterns = [
    path("test-failure", _django_view_that_fails),
    path("test-api-failure", _api_view_that_fails),
    path("admin/test-failure", _django_view_that_fails),
    *project_urls.urlpatterns,
]
handler400 = project_urls.handler400
handler403 = project_urls.handler403
handler404 = project_urls.handler404
handler500 = project_urls.handler500

pytestmark = [pytest.mark.urls(__name__), pytest.mark.django_db]


def _shows_nothing_inside(response) -> bool:
    text = response.content.decode()
    return all(
        word not in text
        for word in ("Traceback", "Zelda", "SELECT", "RuntimeError", "SECRET_KEY", "settings")
    )


@pytest.fixture
def client(client):
    client.raise_request_exception = False  # answer as the server would
    return client


def test_debug_is_off_in_the_tests_as_in_production(settings):
    assert settings.DEBUG is False


@pytest.mark.parametrize("url", ["/test-failure", "/test-api-failure", "/admin/test-failure"])
def test_an_error_in_a_view_is_a_json_500_without_a_traceback(client, url):
    response = client.get(url, HTTP_ACCEPT="text/html")

    assert response.status_code == 500
    assert response["Content-Type"] == "application/json"
    assert response.json() == {"error": "Internal server error"}
    assert _shows_nothing_inside(response)
    assert response["X-Request-ID"]  # what the client quotes, to find the logged traceback


def test_an_unknown_admin_page_is_a_json_404_not_a_debug_page(admin_client):
    response = admin_client.get("/admin/no-such-app/")

    assert response.status_code == 404
    assert response["Content-Type"] == "application/json"
    assert _shows_nothing_inside(response)


def test_a_bad_host_is_a_json_400_without_the_settings(client):
    response = client.get("/", HTTP_HOST="evil.example")

    assert response.status_code == 400
    assert response.json() == {"error": "Bad request"}
    assert "ALLOWED_HOSTS" not in response.content.decode()
