"""The patient's notification preferences in the patients API: the preferred channel and the
opt-outs, set on create, shown on read and changed by update."""

from http import HTTPStatus

import pytest

from notifications.models import Notification
from patients.models import Patient
from patients.tests.factories import ANN, PatientFactory

pytestmark = pytest.mark.django_db


def test_a_new_patient_defaults_to_sms_with_no_opt_outs(alice):
    response = alice.post("/patients", ANN, format="json")

    assert response.status_code == HTTPStatus.CREATED
    patient = response.json()["patient"]
    assert (patient["preferred_channel"], patient["sms_opt_out"], patient["email_opt_out"]) == (
        "sms",
        False,
        False,
    )


def test_preferences_are_set_on_create_and_shown_on_read(alice, carol):
    body = {**ANN, "preferred_channel": "email", "sms_opt_out": True, "email_opt_out": False}

    created = alice.post("/patients", body, format="json")
    patient_id = created.json()["patient_id"]
    shown = carol.get(f"/patients/{patient_id}").json()

    assert created.status_code == HTTPStatus.CREATED
    assert (shown["preferred_channel"], shown["sms_opt_out"], shown["email_opt_out"]) == (
        "email",
        True,
        False,
    )
    notification = Notification.objects.get(patient_id=patient_id)
    assert (notification.channel, notification.recipient) == ("email", ANN["email"])


@pytest.mark.parametrize("method", ["put", "patch"])
def test_preferences_are_changed_by_update(alice, method):
    patient = PatientFactory()

    response = getattr(alice, method)(
        f"/patients/{patient.pk}",
        {"preferred_channel": "email", "email_opt_out": True},
        format="json",
    )

    assert response.status_code == HTTPStatus.OK
    shown = response.json()["patient"]
    assert (shown["preferred_channel"], shown["sms_opt_out"], shown["email_opt_out"]) == (
        "email",
        False,
        True,
    )
    patient.refresh_from_db()
    assert (patient.preferred_channel, patient.email_opt_out) == ("email", True)


@pytest.mark.parametrize("method", ["post", "put"])
def test_an_unknown_preferred_channel_is_400(alice, method):
    patient = PatientFactory(name="Pat Before")
    path = "/patients" if method == "post" else f"/patients/{patient.pk}"

    response = getattr(alice, method)(
        path, {**ANN, "name": "Pat After", "preferred_channel": "fax"}, format="json"
    )

    assert response.status_code == HTTPStatus.BAD_REQUEST
    assert response.json()["error"]
    assert "preferred_channel" in response.json()["errors"]
    assert Patient.objects.get().name == "Pat Before"
    assert not Notification.objects.exists()


def test_a_non_boolean_opt_out_is_400(alice):
    response = alice.post("/patients", {**ANN, "sms_opt_out": "sometimes"}, format="json")

    assert response.status_code == HTTPStatus.BAD_REQUEST
    assert "sms_opt_out" in response.json()["errors"]
    assert not Patient.objects.exists()
