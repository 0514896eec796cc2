"""The admin's pages leave one access record each, with the patients they showed or touched:
here the outbox's pages (notices show a patient's first name and address)."""

from http import HTTPStatus

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from accounts.tests.factories import UserFactory
from audit.models import AccessRecord, Via
from notifications.models import Notification
from notifications.tests.factories import NotificationFactory
from patients.tests.factories import PatientFactory

pytestmark = pytest.mark.django_db

CHANGELIST = "/admin/notifications/notification/"


def _page(notice: Notification, page: str) -> str:
    return f"{CHANGELIST}{notice.pk}/{page}/"


def _records() -> list[AccessRecord]:
    return list(AccessRecord.objects.order_by("id"))


def _ids(record: AccessRecord) -> set:
    return {patient.patient_id for patient in record.patients.all()}


@pytest.fixture
def notices() -> list[Notification]:
    first, second = PatientFactory(), PatientFactory()
    return [
        NotificationFactory(patient=first, sent=True),
        NotificationFactory(patient=first, email=True, failed=True),
        NotificationFactory(patient=second, sent=True),
    ]


@pytest.fixture
def staff():
    def login(role: str | None) -> Client:
        client = Client()
        client.force_login(UserFactory(staff=True, role=role))
        return client

    return login


def test_the_list_records_the_patients_of_the_notices_on_the_page(admin_client, notices):
    response = admin_client.get(CHANGELIST, {"q": "example"})

    (record,) = _records()
    listed = {notice.patient_id for notice in response.context["cl"].result_list}
    assert response.status_code == HTTPStatus.OK
    assert (record.action, record.via, record.status) == (
        "admin.notification.changelist_view",
        Via.ADMIN,
        200,
    )
    assert _ids(record) == listed == {notice.patient_id for notice in notices}
    assert record.username == "admin"
    assert record.path == CHANGELIST
    assert record.token == ""


def test_the_page_and_its_record_read_the_notices_once(admin_client, notices):
    with CaptureQueriesContext(connection) as queries:
        admin_client.get(CHANGELIST)

    # The rows themselves (not the count or the date hierarchy): one SELECT for both.
    reads = [q for q in queries if '"notifications_notification"."recipient"' in q["sql"]]
    assert len(reads) == 1
    assert AccessRecord.objects.count() == 1


def test_each_page_leaves_one_record_with_its_patient(admin_client, notices):
    notice = notices[2]

    admin_client.get(_page(notice, "change"))
    admin_client.get(_page(notice, "history"))

    records = _records()
    assert [record.action for record in records] == [
        "admin.notification.change_view",
        "admin.notification.history_view",
    ]
    assert all(_ids(record) == {notice.patient_id} for record in records)


def test_a_resend_records_the_patients_of_the_notices_it_was_run_on(admin_client, notices):
    response = admin_client.post(
        CHANGELIST, {"action": "resend", "_selected_action": [notices[0].pk, notices[2].pk]}
    )

    (record,) = _records()
    assert response.status_code == HTTPStatus.FOUND
    assert (record.action, record.status) == ("admin.notification.resend", 302)
    assert _ids(record) == {notices[0].patient_id, notices[2].patient_id}


def test_a_resend_whose_record_fails_is_rolled_back(notices, records_refused):
    client = Client(raise_request_exception=False)
    client.force_login(UserFactory(superuser=True))
    failed = notices[1]

    response = client.post(CHANGELIST, {"action": "resend", "_selected_action": [failed.pk]})

    failed.refresh_from_db()
    assert response.status_code == HTTPStatus.INTERNAL_SERVER_ERROR
    assert failed.status == Notification.Status.FAILED


def test_a_staff_user_without_the_permission_is_refused_and_recorded(staff, notices):
    response = staff(None).get(_page(notices[0], "change"))

    (record,) = _records()
    assert response.status_code == HTTPStatus.FORBIDDEN
    assert (record.action, record.status) == ("admin.notification.change_view", 403)
    assert record.username.startswith("staff")


def test_someone_not_logged_in_is_sent_to_the_login_and_recorded(client, notices):
    response = client.get(CHANGELIST)

    (record,) = _records()
    assert response.status_code == HTTPStatus.FOUND
    assert "/admin/login/" in response["Location"]
    assert (record.status, record.user, record.username) == (302, None, "")


def test_a_change_posted_to_the_read_only_outbox_is_refused_and_recorded(staff, notices):
    response = staff("clinician").post(_page(notices[0], "change"), {"status": "sent"})

    (record,) = _records()
    assert response.status_code == HTTPStatus.FORBIDDEN
    assert (record.action, record.status) == ("admin.notification.change_view", 403)


def test_a_notice_whose_patient_was_deleted_names_no_patient(admin_client):
    notice = NotificationFactory(patient=None, first_name="Pat")

    response = admin_client.get(_page(notice, "change"))

    (record,) = _records()
    assert response.status_code == HTTPStatus.OK
    assert _ids(record) == set()
