"""The pages staff see carry the clinic's name and show times to the second with their zone."""

import re
from http import HTTPStatus

import pytest
from django.test import Client

from patients.services import patient_create

pytestmark = pytest.mark.django_db


def test_the_admin_is_branded_with_the_clinic_name(admin_client, settings):
    page = admin_client.get("/admin/").content.decode()

    assert settings.CLINIC_NAME in page
    assert "Django administration" not in page
    assert "Django site admin" not in page


def test_the_admin_login_page_is_branded_with_the_clinic_name(settings):
    page = Client().get("/admin/login/").content.decode()

    assert settings.CLINIC_NAME in page
    assert "Django administration" not in page


def test_the_browsable_api_and_its_login_are_branded_with_the_clinic_name(admin_client, settings):
    api = admin_client.get("/patients", HTTP_ACCEPT="text/html")
    login = Client().get("/api-auth/login/")

    assert api.status_code == login.status_code == HTTPStatus.OK
    for page in (api.content.decode(), login.content.decode()):
        assert settings.CLINIC_NAME in page
        assert "Django REST framework</a>" not in page
        assert "Django REST framework</h3>" not in page
        title = page[page.index("<title>") : page.index("</title>")]
        assert settings.CLINIC_NAME in title


def test_admin_times_show_seconds_and_the_time_zone(admin_client):
    patient = patient_create(name="Ann Lee", email="ann@example.com", phone="+15550101234")

    page = admin_client.get(f"/admin/patients/patient/{patient.pk}/change/").content.decode()

    assert re.search(r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d UTC", page)


def test_admin_times_follow_the_configured_time_zone(admin_client, settings):
    settings.TIME_ZONE = "America/New_York"
    patient = patient_create(name="Ann Lee", email="ann@example.com", phone="+15550101234")

    page = admin_client.get(f"/admin/patients/patient/{patient.pk}/change/").content.decode()

    assert re.search(r"\d\d:\d\d:\d\d E[SD]T", page)
