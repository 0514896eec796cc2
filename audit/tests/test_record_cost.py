"""What a record costs: one INSERT for the record and one for all its patient ids, however
many a list page names."""

import uuid

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from audit.models import AccessRecord, Action, Via
from audit.services import access_record

pytestmark = pytest.mark.django_db


def test_a_record_of_a_full_page_of_patients_is_two_inserts():
    ids = [uuid.uuid4() for _ in range(500)]

    with CaptureQueriesContext(connection) as queries:
        record = access_record(
            action=Action.PATIENT_LIST, via=Via.API, patient_ids=ids, status_code=200
        )

    inserts = [q["sql"] for q in queries if q["sql"].lstrip().upper().startswith("INSERT")]
    assert len(inserts) == 2
    stored = AccessRecord.objects.get(pk=record.pk).patients.order_by("id")
    assert [patient.patient_id for patient in stored] == ids


def test_an_id_given_twice_is_stored_once_in_the_order_first_given():
    first, second = uuid.uuid4(), uuid.uuid4()

    record = access_record(
        action=Action.PATIENT_LIST,
        via=Via.API,
        patient_ids=[first, str(second), first, None],
        status_code=200,
    )

    stored = record.patients.order_by("id")
    assert [patient.patient_id for patient in stored] == [first, second]
