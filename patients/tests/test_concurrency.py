"""Simultaneous writers: the database constraints decide, and nobody sees a 500."""

import threading
from http import HTTPStatus

import pytest
from django.db import connection

from accounts.services import roles_setup, token_issue
from patients.models import Patient

# Threads need their own connections to a real (file) database, so commits must be real too.
pytestmark = pytest.mark.django_db(transaction=True)

THREADS = 8


def _post_from_threads(bodies):
    from rest_framework.test import APIClient

    roles_setup()
    _, token = token_issue(username="alice", create=True, role="clinician")
    barrier = threading.Barrier(len(bodies))
    results = [None] * len(bodies)

    def post(index, body):
        client = APIClient()
        client.credentials(HTTP_AUTHORIZATION=f"Bearer {token}")
        try:
            barrier.wait()
            response = client.post("/patients", body, format="json")
            results[index] = (response.status_code, response.content.decode())
        except Exception as exc:  # a failed thread must fail the test, not vanish
            results[index] = (None, repr(exc))
        finally:
            connection.close()

    threads = [threading.Thread(target=post, args=(i, b)) for i, b in enumerate(bodies)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return results


def test_eight_simultaneous_posts_with_the_same_email_give_one_201_and_seven_409():
    bodies = [
        {"name": f"Twin {i}", "email": "SAME@example.com", "phone": f"55501000{i:02d}"}
        for i in range(THREADS)
    ]

    results = _post_from_threads(bodies)

    statuses = sorted(status for status, _ in results)
    assert statuses == [HTTPStatus.CREATED] + [HTTPStatus.CONFLICT] * (THREADS - 1), results
    assert not any("locked" in body for _, body in results)
    assert Patient.objects.filter(email="same@example.com").count() == 1


def test_simultaneous_posts_of_different_patients_all_succeed():
    bodies = [
        {"name": f"Pat {i}", "email": f"pat{i}@example.com", "phone": f"55502000{i:02d}"}
        for i in range(THREADS)
    ]

    results = _post_from_threads(bodies)

    assert [status for status, _ in results] == [HTTPStatus.CREATED] * THREADS, results
    assert Patient.objects.count() == THREADS
