"""Deleting patients in the admin, one from its page or several by the bulk action: each by
the same service as the API, which logs who deleted it; their notices stay in the outbox."""

import logging
from http import HTTPStatus

import pytest
from django.db.models.signals import post_init

from notifications.models import Notification
from notifications.tests.factories import NotificationFactory
from patients.models import Patient
from patients.services import patient_delete
from patients.tests.admin_pages import CHANGELIST, delete_url, meanwhile

pytestmark = pytest.mark.django_db


def test_delete_confirmation_deletes_through_the_service(superuser_client, superuser, caplog):
    notice, other_notice = NotificationFactory.create_batch(2)
    patient, other = notice.patient, other_notice.patient
    caplog.set_level(logging.INFO, logger="patients.services")

    confirmation = superuser_client.get(delete_url(patient))
    response = superuser_client.post(delete_url(patient), {"post": "yes"})

    assert confirmation.status_code == HTTPStatus.OK
    assert response.status_code == HTTPStatus.FOUND
    assert list(Patient.objects.all()) == [other]
    # The service's log names who deleted it, and its notice stays (unlinked) in the outbox.
    assert f"patient {patient.pk} deleted by user {superuser.pk}" in caplog.messages
    notice.refresh_from_db()
    assert (notice.patient_id, notice.status) == (None, Notification.Status.PENDING)
    other_notice.refresh_from_db()
    assert other_notice.patient_id == other.pk


def test_bulk_delete_action_deletes_the_selected_patients_through_the_service(
    superuser_client, superuser, caplog
):
    first, second, kept = (notice.patient for notice in NotificationFactory.create_batch(3))
    selected = [str(first.pk), str(second.pk)]
    caplog.set_level(logging.INFO, logger="patients.services")

    confirmation = superuser_client.post(
        CHANGELIST, {"action": "delete_selected", "_selected_action": selected}
    )
    assert confirmation.status_code == HTTPStatus.OK
    assert Patient.objects.count() == 3  # the first POST only asks for confirmation
    response = superuser_client.post(
        CHANGELIST,
        {"action": "delete_selected", "_selected_action": selected, "post": "yes"},
    )

    assert response.status_code == HTTPStatus.FOUND
    assert list(Patient.objects.all()) == [kept]
    # One service call per patient, none bypassing it: each deletion logged with its actor.
    deletions = [message for message in caplog.messages if " deleted by user " in message]
    assert sorted(deletions) == sorted(
        f"patient {patient.pk} deleted by user {superuser.pk}" for patient in (first, second)
    )
    assert Notification.objects.count() == 3
    assert Notification.objects.filter(patient=None).count() == 2


def test_a_patient_someone_else_deletes_while_the_confirmation_is_posted_is_no_error(
    superuser_client,
):
    patient = NotificationFactory().patient

    with meanwhile(post_init, lambda: patient_delete(patient=patient)):
        response = superuser_client.post(delete_url(patient), {"post": "yes"})

    assert response.status_code == HTTPStatus.FOUND
    assert not Patient.objects.filter(pk=patient.pk).exists()
    assert Patient.history.filter(id=patient.pk, history_type="-").count() == 1
