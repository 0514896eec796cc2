"""The patient admin's changelist: newest first, and searched the API's way (a phone typed
with spaces or dashes is found too)."""

from datetime import timedelta
from http import HTTPStatus

import pytest
from django.utils import timezone

from patients.models import Patient
from patients.tests.admin_pages import CHANGELIST, listed
from patients.tests.factories import PatientFactory

pytestmark = pytest.mark.django_db


def test_changelist_lists_patients_newest_first(superuser_client):
    oldest, middle, newest = PatientFactory.create_batch(3)
    now = timezone.now()
    for age_in_days, patient in ((3, oldest), (2, middle), (1, newest)):
        Patient.objects.filter(pk=patient.pk).update(created_at=now - timedelta(days=age_in_days))

    response = superuser_client.get(CHANGELIST)

    assert response.status_code == HTTPStatus.OK
    assert listed(response) == [newest, middle, oldest]


@pytest.mark.parametrize(
    "term",
    [
        "Zelda",
        "zelda q",
        "ZQ@Clinic.example",
        "clinic.example",
        "5550001111",
        "0001111",
        "(555) 000-1111",
    ],
    ids=[
        "first-name",
        "name-any-case",
        "email-any-case",
        "email-domain",
        "phone",
        "phone-part",
        "phone-as-typed",
    ],
)
def test_search_finds_patients_by_name_email_or_phone(superuser_client, term):
    match = PatientFactory(name="Zelda Quinn", email="zq@clinic.example", phone="+15550001111")
    PatientFactory(name="Other Person", email="other@example.com", phone="+15559998888")

    response = superuser_client.get(CHANGELIST, {"q": term})

    assert response.status_code == HTTPStatus.OK
    assert listed(response) == [match]


def test_search_without_a_match_lists_nothing(superuser_client):
    PatientFactory(name="Zelda Quinn")

    response = superuser_client.get(CHANGELIST, {"q": "Nobody"})

    assert response.status_code == HTTPStatus.OK
    assert listed(response) == []
