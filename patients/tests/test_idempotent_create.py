"""No duplicate creates: POST /patients with an Idempotency-Key creates once per key and user;
a retry gets the first response again."""

from datetime import timedelta
from http import HTTPStatus

import pytest
import time_machine
from django.contrib.auth.models import User
from django.utils import timezone

from api.models import IdempotencyKey
from api.services import idempotency_keys_expire
from notifications.models import Notification
from patients.models import Patient
from patients.tests.factories import ANN

pytestmark = pytest.mark.django_db


def _post(client, body, key="key-1"):
    return client.post("/patients", body, format="json", HTTP_IDEMPOTENCY_KEY=key)


def test_a_repeat_with_the_same_key_and_body_replays_the_first_response(alice):
    first = _post(alice, ANN)
    # The same JSON, keys in another order.
    repeat = _post(alice, dict(reversed(list(ANN.items()))))

    assert first.status_code == repeat.status_code == HTTPStatus.CREATED
    assert repeat.json() == first.json()
    assert repeat.headers["Location"] == first.headers["Location"]
    assert repeat.headers["ETag"] == first.headers["ETag"]
    assert repeat.headers["Idempotent-Replayed"] == "true"
    assert "Idempotent-Replayed" not in first.headers
    assert Patient.objects.count() == 1
    assert Notification.objects.count() == 1


def test_the_same_key_with_a_different_body_is_422(alice):
    _post(alice, ANN)

    response = _post(alice, {**ANN, "name": "Ann Roe"})

    assert response.status_code == HTTPStatus.UNPROCESSABLE_ENTITY
    assert response.json() == {
        "error": "This Idempotency-Key was used with a different request body"
    }
    assert Patient.objects.get().name == ANN["name"]


def test_a_request_that_fails_validation_stores_nothing_and_can_be_corrected(alice):
    refused = _post(alice, {**ANN, "email": "not-an-email"})
    corrected = _post(alice, ANN)

    assert refused.status_code == HTTPStatus.BAD_REQUEST
    assert corrected.status_code == HTTPStatus.CREATED
    assert Patient.objects.count() == 1


def test_a_conflicting_request_stores_nothing(alice):
    _post(alice, ANN, key="first")
    conflict = _post(alice, {**ANN, "name": "Other Person"}, key="second")
    assert conflict.status_code == HTTPStatus.CONFLICT

    retry = _post(
        alice,
        {**ANN, "name": "Other Person", "email": "o@example.com", "phone": "+15550108888"},
        key="second",
    )

    assert retry.status_code == HTTPStatus.CREATED
    assert not IdempotencyKey.objects.filter(key="second", status_code=409).exists()


def test_keys_are_per_user(alice, bob):
    _post(alice, ANN, key="shared")

    response = _post(bob, {**ANN, "email": "b@example.com", "phone": "+15550103333"}, "shared")

    assert response.status_code == HTTPStatus.CREATED
    assert Patient.objects.count() == 2


def test_without_a_key_each_post_is_its_own_request(alice):
    alice.post("/patients", ANN, format="json")

    assert alice.post("/patients", ANN, format="json").status_code == HTTPStatus.CONFLICT


@pytest.mark.parametrize("key", ["", "x" * 256, "clé", "two words"])
def test_a_malformed_key_is_400_and_creates_nothing(alice, key):
    response = _post(alice, ANN, key=key)

    assert response.status_code == HTTPStatus.BAD_REQUEST
    assert "Idempotency-Key" in response.json()["error"]
    assert not Patient.objects.exists()


def _a_day_later(client):
    """Travel past the keys' lifetime, still signed in (the token would have expired)."""
    client.force_authenticate(User.objects.get(username="alice"))
    return time_machine.travel(timezone.now() + timedelta(hours=24, minutes=1))


def test_a_key_expires_after_24_hours(alice):
    _post(alice, ANN)

    with _a_day_later(alice):
        other = {**ANN, "email": "later@example.com", "phone": "+15550104444"}
        response = _post(alice, other)

    assert response.status_code == HTTPStatus.CREATED
    assert Patient.objects.count() == 2


def test_expired_keys_are_forgotten_by_the_periodic_task(alice):
    _post(alice, ANN, key="old")
    with _a_day_later(alice):
        _post(alice, {**ANN, "email": "n@example.com", "phone": "+15550105555"}, key="new")
        forgotten = idempotency_keys_expire()

    assert forgotten == 1
    assert list(IdempotencyKey.objects.values_list("key", flat=True)) == ["new"]
