"""The outbox in the admin: the changelist and its filters, the resend action (only for roles
that may add notifications), no hand-made notices, and the Celery task results."""

from http import HTTPStatus

import pytest
from django.test import Client

from accounts.tests.factories import UserFactory
from notifications.models import Notification
from notifications.tests.factories import NotificationFactory
from patients.tests.factories import PatientFactory

pytestmark = pytest.mark.django_db

Status = Notification.Status
Kind = Notification.Kind

CHANGELIST = "/admin/notifications/notification/"


@pytest.fixture
def staff_client():
    """A client logged in as a staff user in the given role."""

    def login(role: str) -> Client:
        client = Client()
        client.force_login(UserFactory(staff=True, role=role))
        return client

    return login


@pytest.fixture
def outbox() -> dict[str, Notification]:
    """One notification of each kind of interest, by name."""
    patient = PatientFactory()
    changed = Kind.DETAILS_CHANGED
    return {
        "sms_welcome_sent": NotificationFactory(patient=patient, sent=True),
        "email_welcome_failed": NotificationFactory(patient=patient, email=True, failed=True),
        "sms_changed_pending": NotificationFactory(patient=patient, kind=changed, pending=True),
        "email_changed_skipped": NotificationFactory(
            patient=patient, kind=changed, email=True, skipped=True
        ),
    }


def _listed(response) -> set:
    assert response.status_code == HTTPStatus.OK
    return {notification.pk for notification in response.context["cl"].result_list}


def _actions(response) -> list[str]:
    """The changelist's actions; the admin leaves out the form when none is allowed."""
    form = response.context["action_form"]
    return [name for name, _ in form.fields["action"].choices] if form else []


def test_the_changelist_lists_every_notification(admin_client, outbox):
    response = admin_client.get(CHANGELIST)

    assert _listed(response) == {n.pk for n in outbox.values()}


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("status__exact=failed", {"email_welcome_failed"}),
        ("status__exact=pending", {"sms_changed_pending"}),
        ("channel__exact=sms", {"sms_welcome_sent", "sms_changed_pending"}),
        ("channel__exact=email", {"email_welcome_failed", "email_changed_skipped"}),
        ("kind__exact=welcome", {"sms_welcome_sent", "email_welcome_failed"}),
        ("kind__exact=details_changed&channel__exact=email", {"email_changed_skipped"}),
    ],
)
def test_the_changelist_filters_by_status_channel_and_kind(admin_client, outbox, query, expected):
    response = admin_client.get(f"{CHANGELIST}?{query}")

    assert _listed(response) == {outbox[name].pk for name in expected}


def test_resend_queues_new_pending_copies_of_the_selected(admin_client, outbox):
    selected = [outbox["email_welcome_failed"], outbox["sms_welcome_sent"]]

    response = admin_client.post(
        CHANGELIST,
        {"action": "resend", "_selected_action": [str(n.pk) for n in selected]},
        follow=True,
    )

    assert response.status_code == HTTPStatus.OK
    assert "2 notification(s) queued again." in response.text
    copies = Notification.objects.exclude(pk__in=[n.pk for n in outbox.values()])
    assert sorted(copies.values_list("channel", "kind", "recipient", "status", "attempts")) == [
        (n.channel, n.kind, n.recipient, Status.PENDING, 0) for n in sorted(selected, key=_key)
    ]
    for original in selected:
        status = original.status
        original.refresh_from_db()
        assert original.status == status


def _key(notification: Notification) -> tuple:
    return (notification.channel, notification.kind, notification.recipient)


def test_a_front_desk_user_may_resend(staff_client, outbox):
    client = staff_client("front_desk")
    failed = outbox["email_welcome_failed"]

    listing = client.get(CHANGELIST)
    client.post(CHANGELIST, {"action": "resend", "_selected_action": [str(failed.pk)]})

    assert "resend" in _actions(listing)
    assert Notification.objects.count() == len(outbox) + 1


def test_an_auditor_sees_the_outbox_but_not_the_resend_action(staff_client, outbox):
    client = staff_client("auditor")
    failed = outbox["email_welcome_failed"]

    listing = client.get(CHANGELIST)
    client.post(CHANGELIST, {"action": "resend", "_selected_action": [str(failed.pk)]})

    assert _listed(listing) == {n.pk for n in outbox.values()}
    assert "resend" not in _actions(listing)
    assert Notification.objects.count() == len(outbox)


def test_notifications_cannot_be_added_by_hand(admin_client):
    response = admin_client.get(f"{CHANGELIST}add/")

    assert response.status_code == HTTPStatus.FORBIDDEN


def test_a_notification_is_shown_read_only_and_cannot_be_changed(admin_client, outbox):
    notification = outbox["sms_changed_pending"]
    url = f"{CHANGELIST}{notification.pk}/change/"

    shown = admin_client.get(url)
    posted = admin_client.post(url, {"status": Status.SENT, "recipient": "+15559999999"})

    assert shown.status_code == HTTPStatus.OK
    assert posted.status_code == HTTPStatus.FORBIDDEN
    notification.refresh_from_db()
    assert (notification.status, notification.recipient) == (
        Status.PENDING,
        notification.patient.phone,
    )


def test_the_celery_task_results_page_loads(admin_client):
    response = admin_client.get("/admin/django_celery_results/taskresult/")

    assert response.status_code == HTTPStatus.OK
    assert "cl" in response.context


def test_nobody_deletes_from_the_outbox(admin_client):
    notification = NotificationFactory()

    page = admin_client.get(f"{CHANGELIST}{notification.pk}/delete/")

    assert page.status_code == HTTPStatus.FORBIDDEN
    assert Notification.objects.filter(pk=notification.pk).exists()


def test_resending_a_notice_still_on_its_way_is_refused_with_a_warning(admin_client, outbox):
    pending = outbox["sms_changed_pending"]

    response = admin_client.post(
        CHANGELIST, {"action": "resend", "_selected_action": [str(pending.pk)]}, follow=True
    )

    assert "1 still on their way were left alone" in response.text
    assert Notification.objects.count() == len(outbox)
