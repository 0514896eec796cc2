"""Patient data stays out of logs, console output and broker messages: a notice carries a first
name and the clinic's name, and everything else about it goes by id."""

import base64
import json
import logging
from http import HTTPStatus

import pytest
import redis

from notifications.models import Notification
from notifications.services import notification_deliver, notification_resend
from notifications.tests.factories import NotificationFactory
from patients.services import patient_create, patient_update
from patients.tests.factories import PatientFactory

pytestmark = pytest.mark.django_db

Status = Notification.Status

ANN = {"name": "Ann Marlowe", "email": "ann.marlowe@example.com", "phone": "+15550101234"}
NEW_EMAIL = "a.m@example.org"
NEW_PHONE = "+15550105678"
# What must never appear: every address the patient had, and the name past the first.
SECRETS = [
    "Marlowe",
    "marlowe",
    ANN["email"],
    NEW_EMAIL,
    "5550101234",
    "5550105678",
]


def _assert_no_secrets(text: str) -> None:
    leaked = [secret for secret in SECRETS if secret in text]
    assert leaked == [], f"patient data in output: {leaked}"


def _deliver_pending() -> None:
    for pk in Notification.objects.filter(status=Status.PENDING).values_list("pk", flat=True):
        notification_deliver(notification_id=pk)


def test_patient_changes_and_deliveries_log_no_patient_details(
    caplog, sms_gateway, smtp_server, settings
):
    caplog.set_level(logging.DEBUG)
    settings.NOTIFICATION_MAX_ATTEMPTS = 2
    smtp_server.reject_with = f"550 5.1.1 <{ANN['email']}>: mailbox unavailable"
    # Retries (info) of the SMS, then sends; failures (warning) of the email.
    sms_gateway.fail_next(HTTPStatus.SERVICE_UNAVAILABLE, times=2)

    patient = patient_create(**ANN)
    patient_update(patient=patient, data={"name": "Ann Marlowe-Smith"})
    patient_update(patient=patient, data={"phone": NEW_PHONE, "email": NEW_EMAIL})
    _deliver_pending()
    _deliver_pending()
    notification_resend(notification=Notification.objects.filter(status=Status.FAILED).first())

    statuses = set(Notification.objects.values_list("status", flat=True))
    assert {Status.SENT, Status.FAILED} <= statuses
    # "mail.log" is aiosmtpd's, the fake SMTP server's: the outside world's logs, not ours.
    logged = "\n".join(
        f"{record.getMessage()} {record.exc_text or ''}"
        for record in caplog.records
        if record.name != "mail.log"
    )
    assert f"patient {patient.pk} created" in logged
    assert "failed: SMTP server refused the recipient" in logged
    assert "retrying" in logged
    _assert_no_secrets(logged)


def test_kept_errors_hold_no_addresses(sms_gateway, smtp_server, settings):
    settings.NOTIFICATION_MAX_ATTEMPTS = 1
    smtp_server.reject_with = f"550 5.1.1 <{NEW_EMAIL}>: mailbox unavailable"
    sms_gateway.fail_next(HTTPStatus.BAD_REQUEST, times=10)
    patient = patient_create(**ANN, preferred_channel="email")

    patient_update(patient=patient, data={"phone": NEW_PHONE, "email": NEW_EMAIL})
    _deliver_pending()

    errors = list(Notification.objects.exclude(last_error="").values_list("last_error", flat=True))
    assert len(errors) == 5  # the welcome and four notices of the change, all refused
    _assert_no_secrets("\n".join(errors))


def test_the_console_sms_shows_the_first_name_but_no_number(capsys, settings):
    settings.SMS_BACKEND = "console"
    notification = NotificationFactory(patient=PatientFactory(**ANN))

    outcome = notification_deliver(notification_id=notification.pk)

    out = capsys.readouterr().out
    assert outcome.status == Status.SENT
    assert str(notification.pk) in out
    assert "Ann" in out
    _assert_no_secrets(out)


def test_the_console_email_shows_the_first_name_but_no_address(capsys, settings):
    settings.EMAIL_BACKEND = "notifications.backends.email.ConsoleEmailBackend"
    notification = NotificationFactory(
        patient=PatientFactory(**ANN, prefers_email=True), email=True
    )

    outcome = notification_deliver(notification_id=notification.pk)

    out = capsys.readouterr().out
    assert outcome.status == Status.SENT
    assert str(notification.pk) in out
    assert "Ann" in out
    _assert_no_secrets(out)


def test_the_broker_message_carries_the_notification_id_only(
    test_redis, django_capture_on_commit_callbacks
):
    broker = redis.Redis.from_url(test_redis.url)
    before = broker.llen("celery")

    with django_capture_on_commit_callbacks(execute=True):
        patient = patient_create(**ANN)

    notification = Notification.objects.get(patient=patient)
    # Kombu pushes new messages on the left of the list.
    new = broker.lrange("celery", 0, broker.llen("celery") - before - 1)
    assert len(new) == 1
    message = json.loads(new[0])
    args, kwargs, _ = json.loads(base64.b64decode(message["body"]))
    assert (args, kwargs) == ([str(notification.pk)], {})
    _assert_no_secrets(new[0].decode())
    assert "Ann" not in new[0].decode()
