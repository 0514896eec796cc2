"""Simultaneous writers: the database constraints and row locks decide, and nobody sees a
500."""

import threading
from http import HTTPStatus

import pytest
from django.db import connection
from rest_framework.test import APIClient

from accounts.services import roles_setup, token_issue
from notifications.models import Notification
from patients.models import Patient
from patients.services import (
    PatientNotPurgeable,
    PatientNotRestorable,
    patient_create,
    patient_delete,
    patient_purge,
    patient_restore,
)
from patients.tests.factories import ANN, PatientFactory

# Threads need their own connections to a real (file) database, so commits must be real too.
pytestmark = pytest.mark.django_db(transaction=True)

THREADS = 8


def _from_threads(requests):
    """Make each request (a function of an API client) in its own thread, all at once, as
    alice; returns each one's status, body and headers."""
    roles_setup()
    _, token = token_issue(username="alice", create=True, role="clinician")
    barrier = threading.Barrier(len(requests))
    results = [None] * len(requests)

    def run(index, request):
        client = APIClient()
        client.credentials(HTTP_AUTHORIZATION=f"Bearer {token}")
        try:
            barrier.wait()
            response = request(client)
            results[index] = (response.status_code, response.content.decode(), response.headers)
        except Exception as exc:  # a failed thread must fail the test, not vanish
            results[index] = (None, repr(exc), {})
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=(i, r)) for i, r in enumerate(requests)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return results


def _post_from_threads(bodies):
    return _from_threads(
        [lambda client, body=body: client.post("/patients", body, format="json") for body in bodies]
    )


def test_eight_simultaneous_posts_with_the_same_email_give_one_201_and_seven_409():
    bodies = [
        {"name": f"Twin {i}", "email": "SAME@example.com", "phone": f"55501000{i:02d}"}
        for i in range(THREADS)
    ]

    results = _post_from_threads(bodies)

    statuses = sorted(status for status, _, _ in results)
    assert statuses == [HTTPStatus.CREATED] + [HTTPStatus.CONFLICT] * (THREADS - 1), results
    assert not any("locked" in body for _, body, _ in results)
    assert Patient.objects.filter(email="same@example.com").count() == 1


def test_simultaneous_posts_of_different_patients_all_succeed():
    bodies = [
        {"name": f"Pat {i}", "email": f"pat{i}@example.com", "phone": f"55502000{i:02d}"}
        for i in range(THREADS)
    ]

    results = _post_from_threads(bodies)

    assert [status for status, _, _ in results] == [HTTPStatus.CREATED] * THREADS, results
    assert Patient.objects.count() == THREADS


def test_two_writers_with_the_same_etag_give_one_200_and_one_412():
    patient = PatientFactory(**ANN)
    url = f"/patients/{patient.pk}"

    results = _from_threads(
        [
            lambda client, n=n: client.put(
                url, {"name": f"Writer {n}"}, format="json", HTTP_IF_MATCH='"1"'
            )
            for n in range(2)
        ]
    )

    statuses = sorted(status for status, _, _ in results)
    assert statuses == [HTTPStatus.OK, HTTPStatus.PRECONDITION_FAILED], results
    winner = next(body for status, body, _ in results if status == HTTPStatus.OK)
    saved = Patient.objects.get(pk=patient.pk)
    assert saved.version == 2
    assert saved.name in winner
    assert Patient.history.filter(id=patient.pk).count() == 2  # created, one update


def test_ten_simultaneous_deletes_give_one_200_nine_404_and_one_deleted_version():
    patient = PatientFactory(**ANN)

    results = _from_threads(
        [lambda client: client.delete(f"/patients/{patient.pk}") for _ in range(10)]
    )

    statuses = sorted(status for status, _, _ in results)
    assert statuses == [HTTPStatus.OK] + [HTTPStatus.NOT_FOUND] * 9, results
    assert Patient.history.filter(id=patient.pk, history_type="-").count() == 1


def test_twenty_posts_with_the_same_idempotency_key_create_one_patient_and_one_notice():
    results = _from_threads(
        [
            lambda client: client.post(
                "/patients", ANN, format="json", HTTP_IDEMPOTENCY_KEY="retry-storm"
            )
            for _ in range(20)
        ]
    )

    assert Patient.objects.count() == 1
    assert Notification.objects.count() == 1
    created = [body for status, body, _ in results if status == HTTPStatus.CREATED]
    in_progress = [body for status, body, _ in results if status == HTTPStatus.CONFLICT]
    # Every answer is the stored response, or says the first is still running.
    assert len(created) + len(in_progress) == 20, results
    assert len(set(created)) == 1
    assert all("is in progress" in body for body in in_progress)


def _at_once(calls):
    """Run each call (a service call) in its own thread, all at once; returns each one's
    result or the exception it raised."""
    barrier = threading.Barrier(len(calls))
    results = [None] * len(calls)

    def run(index, call):
        try:
            barrier.wait()
            results[index] = call()
        except Exception as exc:
            results[index] = exc
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=(i, c)) for i, c in enumerate(calls)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return results


def _deleted_patient() -> Patient:
    return patient_delete(patient=patient_create(**ANN))


def test_of_four_simultaneous_restores_one_restores_and_three_find_it_not_deleted():
    patient = _deleted_patient()

    results = _at_once([lambda: patient_restore(patient_id=patient.pk) for _ in range(4)])

    restored = [r for r in results if isinstance(r, Patient)]
    refused = [str(r) for r in results if isinstance(r, PatientNotRestorable)]
    assert len(restored) == 1, results
    assert refused == ["Patient is not deleted"] * 3, results
    assert Patient.history.filter(id=patient.pk, history_type="+").count() == 2


def test_a_restore_and_a_purge_at_once_never_both_succeed():
    patient = _deleted_patient()

    restored, purged = _at_once(
        [
            lambda: patient_restore(patient_id=patient.pk),
            lambda: patient_purge(patient_id=patient.pk),
        ]
    )

    current = Patient.objects.filter(pk=patient.pk).first()
    if current is not None:  # the restore went first; the purge must leave the patient be
        assert isinstance(purged, PatientNotPurgeable), purged
        assert current.email == ANN["email"]
        assert not Patient.history.filter(id=patient.pk, erased_at__isnull=False).exists()
        assert Notification.objects.get(patient_ref=patient.pk).recipient == ANN["phone"]
    else:  # the purge went first; the restore finds the data gone
        assert isinstance(restored, PatientNotRestorable), restored
        assert "purged" in str(restored)
