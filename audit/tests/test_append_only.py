"""Access records are only ever added: the admin shows them read-only, no permission to
change or delete them exists, and the database refuses a change made around the service."""

import uuid
from http import HTTPStatus

import pytest
from django.contrib.auth.models import Permission
from django.db import DatabaseError, connection, transaction
from django.test import Client

from accounts.tests.factories import UserFactory
from audit.models import AccessRecord, AccessRecordPatient
from audit.tests.factories import AccessRecordFactory

pytestmark = pytest.mark.django_db

CHANGELIST = "/admin/audit/accessrecord/"


@pytest.fixture
def auditor() -> Client:
    client = Client()
    client.force_login(UserFactory(staff=True, role="auditor"))
    return client


def test_only_the_view_permission_exists():
    codenames = set(
        Permission.objects.filter(content_type__app_label="audit").values_list(
            "codename", flat=True
        )
    )

    assert codenames == {"view_accessrecord"}


def test_an_auditor_reads_the_records_in_the_admin(auditor):
    record = AccessRecordFactory()

    listed = auditor.get(CHANGELIST)
    page = auditor.get(f"{CHANGELIST}{record.pk}/change/")

    assert listed.status_code == page.status_code == HTTPStatus.OK
    assert list(listed.context["cl"].result_list) == [record]
    assert str(record.patients.get().patient_id) in page.content.decode()
    assert b'name="_save"' not in page.content


@pytest.mark.parametrize("role", ["clinician", "front_desk", None])
def test_other_staff_do_not_see_the_audit_in_the_admin(role):
    client = Client()
    client.force_login(UserFactory(staff=True, role=role))

    assert client.get(CHANGELIST).status_code == HTTPStatus.FORBIDDEN


def test_the_admin_search_finds_a_patients_records_and_a_users(admin_client):
    dana = UserFactory(username="dana")
    record = AccessRecordFactory()
    theirs = AccessRecordFactory(user=dana)
    patient_id = record.patients.get().patient_id

    by_patient = admin_client.get(CHANGELIST, {"q": str(patient_id)})
    by_user = admin_client.get(CHANGELIST, {"q": "dana"})

    assert list(by_patient.context["cl"].result_list) == [record]
    assert list(by_user.context["cl"].result_list) == [theirs]


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ({"via__exact": "admin"}, {"admin"}),
        ({"action": "admin."}, {"admin"}),
        ({"action": "patient.read"}, {"read", "refused"}),
        ({"outcome": "refused"}, {"refused"}),
        ({"outcome": "allowed"}, {"read", "admin"}),
    ],
)
def test_the_admin_filters_by_via_action_and_outcome(admin_client, query, expected):
    records = {
        "read": AccessRecordFactory(),
        "admin": AccessRecordFactory(via="admin", action="admin.patient.change_view"),
        "refused": AccessRecordFactory(status=403),
    }

    response = admin_client.get(CHANGELIST, query)

    assert set(response.context["cl"].result_list) == {records[name] for name in expected}


def test_not_even_a_superuser_adds_changes_or_deletes_in_the_admin(admin_client):
    record = AccessRecordFactory()
    change = f"{CHANGELIST}{record.pk}/change/"

    responses = [
        admin_client.get(f"{CHANGELIST}add/"),
        admin_client.post(f"{CHANGELIST}add/", {"action": "x", "status": 200, "via": "api"}),
        admin_client.post(change, {"action": "x", "status": 200, "via": "api"}),
        admin_client.get(f"{CHANGELIST}{record.pk}/delete/"),
        admin_client.post(f"{CHANGELIST}{record.pk}/delete/", {"post": "yes"}),
    ]

    assert [r.status_code for r in responses] == [HTTPStatus.FORBIDDEN] * 5
    assert AccessRecord.objects.get() == record
    assert AccessRecord.objects.get().action == record.action


def test_the_admin_list_offers_no_bulk_delete(admin_client):
    AccessRecordFactory()

    response = admin_client.get(CHANGELIST)

    assert response.context["action_form"] is None


def test_the_database_refuses_to_change_a_record():
    record = AccessRecordFactory()

    with pytest.raises(DatabaseError), transaction.atomic():
        AccessRecord.objects.filter(pk=record.pk).update(status=500)
    with pytest.raises(DatabaseError), transaction.atomic():
        AccessRecord.objects.filter(pk=record.pk).update(username="someone else")
    with pytest.raises(DatabaseError), transaction.atomic():
        AccessRecordPatient.objects.filter(record=record).update(patient_id=uuid.uuid4())

    assert AccessRecord.objects.get(pk=record.pk).username == record.username


def test_the_database_refuses_to_attach_a_record_to_another_user():
    record = AccessRecordFactory(user=UserFactory())

    with pytest.raises(DatabaseError), transaction.atomic():
        AccessRecord.objects.filter(pk=record.pk).update(user=UserFactory())


def test_deleting_a_user_keeps_their_records_under_their_username():
    dana = UserFactory(username="dana")
    record = AccessRecordFactory(user=dana)

    dana.delete()

    kept = AccessRecord.objects.get(pk=record.pk)
    assert (kept.user, kept.username, kept.status) == (None, "dana", record.status)


@pytest.mark.skipif(
    connection.vendor != "postgresql", reason="SQLite's flush deletes rows; see 0002_append_only"
)
def test_on_postgresql_the_database_refuses_to_delete_a_record():
    record = AccessRecordFactory()

    with pytest.raises(DatabaseError), transaction.atomic():
        AccessRecord.objects.filter(pk=record.pk).delete()

    assert AccessRecord.objects.filter(pk=record.pk).exists()


@pytest.mark.django_db(transaction=True)
def test_records_made_outside_a_tests_transaction_are_emptied_after_it():
    # The flush after a transactional test (TRUNCATE on PostgreSQL, DELETE on SQLite) must
    # get past the append-only guard, or this test errors in its teardown.
    AccessRecordFactory()

    assert AccessRecord.objects.count() == 1
