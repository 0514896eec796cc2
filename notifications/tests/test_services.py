"""The outbox services in-process: what a patient change queues, how one notice is delivered
to the fake gateway and SMTP server on loopback, the sweep and the resend. No worker runs here:
a delivery is a direct call to the service the task would make."""

from datetime import timedelta
from http import HTTPStatus

import pytest
import redis
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from notifications.models import Notification
from notifications.services import (
    notification_deliver,
    notification_resend,
    notifications_sweep,
)
from patients.models import Patient
from patients.services import PatientConflict, patient_create, patient_update
from patients.tests.factories import PatientFactory

pytestmark = pytest.mark.django_db

Status = Notification.Status
Kind = Notification.Kind

ANN = {"name": "Ann Marlowe", "email": "ann@example.com", "phone": "+15550101234"}


def _ann(**overrides) -> Patient:
    return patient_create(**{**ANN, **overrides})


def _rows(patient: Patient, kind: str = Kind.DETAILS_CHANGED) -> set[tuple[str, str, str]]:
    return set(
        Notification.objects.filter(patient=patient, kind=kind).values_list(
            "channel", "recipient", "status"
        )
    )


@pytest.fixture
def queue_length(test_redis):
    """How many task messages wait in the run's own broker (no worker consumes them here)."""
    broker = redis.Redis.from_url(test_redis.url)
    return lambda: broker.llen("celery")


# Queueing on create


def test_create_queues_one_pending_welcome_sms_to_the_stored_phone():
    patient = _ann(phone="+1 (555) 010-1234")

    notification = Notification.objects.get()
    assert notification.patient == patient
    assert (notification.kind, notification.channel) == (Kind.WELCOME, "sms")
    assert notification.recipient == "+15550101234"
    assert notification.status == Status.PENDING
    assert notification.attempts == 0


def test_create_preferring_email_queues_the_welcome_by_email_only():
    _ann(email="Ann@Example.com", preferred_channel="email")

    notification = Notification.objects.get()
    assert (notification.kind, notification.channel) == (Kind.WELCOME, "email")
    assert notification.recipient == "ann@example.com"
    assert notification.status == Status.PENDING


def test_a_create_rolled_back_by_its_caller_leaves_neither_patient_nor_notification():
    def create_then_fail():
        with transaction.atomic():
            _ann()
            assert Notification.objects.count() == 1
            raise RuntimeError("the request failed after the service returned")

    with pytest.raises(RuntimeError):
        create_then_fail()

    assert not Patient.objects.exists()
    assert not Notification.objects.exists()


def test_create_enqueues_once_and_only_after_commit(django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        _ann()

    assert len(callbacks) == 1


def test_the_enqueue_after_commit_publishes_the_id_to_the_broker(
    queue_length, django_capture_on_commit_callbacks
):
    before = queue_length()

    with django_capture_on_commit_callbacks(execute=True):
        _ann()

    assert queue_length() == before + 1


def test_a_create_failing_validation_enqueues_nothing(django_capture_on_commit_callbacks):
    with (
        django_capture_on_commit_callbacks(execute=False) as callbacks,
        pytest.raises(ValidationError),
    ):
        _ann(email="not-an-email")

    assert callbacks == []
    assert not Notification.objects.exists()


def test_a_conflicting_create_enqueues_nothing(django_capture_on_commit_callbacks):
    _ann()

    with (
        django_capture_on_commit_callbacks(execute=False) as callbacks,
        pytest.raises(PatientConflict),
    ):
        _ann(phone="+15559999999")

    assert callbacks == []
    assert Notification.objects.count() == 1


# Queueing on update


def test_a_name_change_queues_one_details_changed_to_the_preferred_channel(
    django_capture_on_commit_callbacks,
):
    patient = _ann()

    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        patient_update(patient=patient, data={"name": "Ann Other"})

    assert _rows(patient) == {("sms", "+15550101234", Status.PENDING)}
    assert len(callbacks) == 1


def test_a_phone_change_notifies_the_old_and_the_new_phone_once_each():
    patient = _ann()

    patient_update(patient=patient, data={"phone": "+15550105678"})

    assert _rows(patient) == {
        ("sms", "+15550101234", Status.PENDING),
        ("sms", "+15550105678", Status.PENDING),
    }
    assert Notification.objects.filter(kind=Kind.DETAILS_CHANGED).count() == 2


def test_a_phone_change_for_an_email_patient_also_notifies_the_preferred_email():
    patient = _ann(preferred_channel="email")

    patient_update(patient=patient, data={"phone": "+15550105678"})

    assert _rows(patient) == {
        ("email", "ann@example.com", Status.PENDING),
        ("sms", "+15550101234", Status.PENDING),
        ("sms", "+15550105678", Status.PENDING),
    }


def test_an_email_change_notifies_the_old_and_the_new_email_and_the_preferred_phone():
    patient = _ann()

    patient_update(patient=patient, data={"email": "ann.new@example.com"})

    assert _rows(patient) == {
        ("sms", "+15550101234", Status.PENDING),
        ("email", "ann@example.com", Status.PENDING),
        ("email", "ann.new@example.com", Status.PENDING),
    }


def test_an_email_change_for_an_email_patient_notifies_each_address_once():
    patient = _ann(preferred_channel="email")

    patient_update(patient=patient, data={"email": "ann.new@example.com"})

    assert _rows(patient) == {
        ("email", "ann@example.com", Status.PENDING),
        ("email", "ann.new@example.com", Status.PENDING),
    }
    assert Notification.objects.filter(kind=Kind.DETAILS_CHANGED).count() == 2


def test_an_update_enqueues_once_for_all_its_notices(django_capture_on_commit_callbacks):
    patient = _ann()

    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        patient_update(patient=patient, data={"phone": "+15550105678", "email": "n@example.com"})

    assert Notification.objects.filter(kind=Kind.DETAILS_CHANGED).count() == 4
    assert len(callbacks) == 1


def test_an_update_that_changes_nothing_queues_nothing(django_capture_on_commit_callbacks):
    patient = _ann()

    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        # The same details as stored once normalized: no change.
        patient_update(
            patient=patient,
            data={"name": " Ann Marlowe ", "email": "ANN@example.com", "phone": "+1 555 010 1234"},
        )

    assert callbacks == []
    assert not Notification.objects.filter(kind=Kind.DETAILS_CHANGED).exists()


def test_an_update_failing_validation_queues_nothing(django_capture_on_commit_callbacks):
    patient = _ann()

    with (
        django_capture_on_commit_callbacks(execute=False) as callbacks,
        pytest.raises(ValidationError),
    ):
        patient_update(patient=patient, data={"email": "nope"})

    assert callbacks == []
    assert not Notification.objects.filter(kind=Kind.DETAILS_CHANGED).exists()


def test_an_update_to_a_used_phone_conflicts_and_queues_nothing(
    django_capture_on_commit_callbacks,
):
    other = PatientFactory()
    patient = _ann()

    with (
        django_capture_on_commit_callbacks(execute=False) as callbacks,
        pytest.raises(PatientConflict),
    ):
        patient_update(patient=patient, data={"phone": other.phone})

    assert callbacks == []
    assert not Notification.objects.filter(kind=Kind.DETAILS_CHANGED).exists()


# Opt-outs


def test_an_sms_opted_out_patient_gets_a_skipped_welcome_and_nothing_enqueued(
    django_capture_on_commit_callbacks,
):
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        _ann(sms_opt_out=True)

    notification = Notification.objects.get()
    assert notification.status == Status.SKIPPED
    assert "opted out" in notification.last_error
    assert "sms" in notification.last_error
    assert callbacks == []


def test_an_email_opt_out_skips_only_the_email_notices():
    patient = _ann(email_opt_out=True)

    patient_update(patient=patient, data={"email": "ann.new@example.com"})

    assert _rows(patient) == {
        ("sms", "+15550101234", Status.PENDING),
        ("email", "ann@example.com", Status.SKIPPED),
        ("email", "ann.new@example.com", Status.SKIPPED),
    }


def test_opting_out_of_sms_while_changing_phone_still_warns_the_old_phone():
    patient = _ann()

    patient_update(patient=patient, data={"phone": "+15550105678", "sms_opt_out": True})

    assert _rows(patient) == {
        ("sms", "+15550101234", Status.PENDING),
        ("sms", "+15550105678", Status.SKIPPED),
    }


def test_opting_back_in_while_changing_phone_skips_the_old_phone():
    patient = _ann(sms_opt_out=True)

    patient_update(patient=patient, data={"phone": "+15550105678", "sms_opt_out": False})

    assert _rows(patient) == {
        ("sms", "+15550101234", Status.SKIPPED),
        ("sms", "+15550105678", Status.PENDING),
    }


# Delivery by SMS


def test_deliver_sends_the_sms_once_and_marks_it_sent(sms_gateway, settings):
    settings.CLINIC_NAME = "Harbour Street Clinic"
    notification = Notification.objects.get(patient=_ann())

    outcome = notification_deliver(notification_id=notification.pk)

    assert outcome.status == Status.SENT
    notification.refresh_from_db()
    assert notification.status == Status.SENT
    assert notification.sent_at is not None
    assert notification.attempts == 1
    assert notification.last_error == ""
    assert sms_gateway.requests == {str(notification.pk): 1}
    form = sms_gateway.delivered[str(notification.pk)]
    assert (form["To"], form["From"]) == ("+15550101234", settings.SMS_FROM)


def test_the_sms_carries_the_first_name_and_clinic_and_nothing_else_of_the_record(
    sms_gateway, settings
):
    settings.CLINIC_NAME = "Harbour Street Clinic"
    notification = Notification.objects.get(patient=_ann())

    notification_deliver(notification_id=notification.pk)

    body = sms_gateway.delivered[str(notification.pk)]["Body"]
    assert "Ann" in body
    assert "Harbour Street Clinic" in body
    assert "Marlowe" not in body
    assert "ann@example.com" not in body
    assert "0101234" not in body


def test_delivering_again_is_not_claimed_and_sends_nothing(sms_gateway):
    notification = Notification.objects.get(patient=_ann())
    notification_deliver(notification_id=notification.pk)

    outcome = notification_deliver(notification_id=notification.pk)

    assert outcome.status == "not_claimed"
    assert sms_gateway.total_requests() == 1
    notification.refresh_from_db()
    assert notification.attempts == 1


def test_a_skipped_notification_is_never_claimed(sms_gateway):
    notification = Notification.objects.get(patient=_ann(sms_opt_out=True))

    outcome = notification_deliver(notification_id=notification.pk)

    assert outcome.status == "not_claimed"
    assert sms_gateway.total_requests() == 0
    notification.refresh_from_db()
    assert (notification.status, notification.attempts) == (Status.SKIPPED, 0)


def test_a_503_leaves_the_notification_pending_with_a_backoff(sms_gateway):
    sms_gateway.fail_next(HTTPStatus.SERVICE_UNAVAILABLE)
    notification = Notification.objects.get(patient=_ann())

    outcome = notification_deliver(notification_id=notification.pk)

    assert outcome.status == Status.PENDING
    assert outcome.retry_in > 0
    notification.refresh_from_db()
    assert notification.status == Status.PENDING
    assert notification.attempts == 1
    assert "503" in notification.last_error
    assert notification.next_attempt_at > timezone.now()
    assert notification.sent_at is None


def test_a_retry_after_a_503_delivers_once(sms_gateway):
    sms_gateway.fail_next(HTTPStatus.SERVICE_UNAVAILABLE)
    notification = Notification.objects.get(patient=_ann())
    notification_deliver(notification_id=notification.pk)

    outcome = notification_deliver(notification_id=notification.pk)

    assert outcome.status == Status.SENT
    notification.refresh_from_db()
    assert (notification.status, notification.attempts) == (Status.SENT, 2)
    assert notification.last_error == ""
    assert sms_gateway.requests[str(notification.pk)] == 2
    assert list(sms_gateway.delivered) == [str(notification.pk)]


def test_503s_up_to_the_attempt_limit_end_failed(sms_gateway, settings):
    settings.NOTIFICATION_MAX_ATTEMPTS = 3
    sms_gateway.fail_next(HTTPStatus.SERVICE_UNAVAILABLE, times=5)
    notification = Notification.objects.get(patient=_ann())

    outcomes = [notification_deliver(notification_id=notification.pk) for _ in range(4)]

    assert [o.status for o in outcomes] == [
        Status.PENDING,
        Status.PENDING,
        Status.FAILED,
        "not_claimed",
    ]
    assert outcomes[2].retry_in is None
    notification.refresh_from_db()
    assert (notification.status, notification.attempts) == (Status.FAILED, 3)
    assert "503" in notification.last_error
    assert sms_gateway.total_requests() == 3


def test_a_400_fails_at_once_without_retry(sms_gateway):
    sms_gateway.fail_next(HTTPStatus.BAD_REQUEST)
    notification = Notification.objects.get(patient=_ann())

    outcome = notification_deliver(notification_id=notification.pk)
    again = notification_deliver(notification_id=notification.pk)

    assert (outcome.status, outcome.retry_in) == (Status.FAILED, None)
    assert again.status == "not_claimed"
    notification.refresh_from_db()
    assert (notification.status, notification.attempts) == (Status.FAILED, 1)
    assert "400" in notification.last_error
    assert sms_gateway.total_requests() == 1


@pytest.mark.parametrize(
    "status",
    [
        HTTPStatus.TOO_MANY_REQUESTS,
        HTTPStatus.INTERNAL_SERVER_ERROR,
        HTTPStatus.BAD_GATEWAY,
        HTTPStatus.GATEWAY_TIMEOUT,
    ],
)
def test_a_429_or_5xx_from_the_gateway_is_retried(sms_gateway, status):
    sms_gateway.fail_next(status)
    notification = Notification.objects.get(patient=_ann())

    outcome = notification_deliver(notification_id=notification.pk)

    assert outcome.status == Status.PENDING
    notification.refresh_from_db()
    assert notification.status == Status.PENDING
    assert str(status.value) in notification.last_error


@pytest.mark.parametrize(
    "status", [HTTPStatus.UNAUTHORIZED, HTTPStatus.FORBIDDEN, HTTPStatus.NOT_FOUND]
)
def test_another_4xx_from_the_gateway_fails_at_once(sms_gateway, status):
    sms_gateway.fail_next(status)
    notification = Notification.objects.get(patient=_ann())

    outcome = notification_deliver(notification_id=notification.pk)

    assert outcome.status == Status.FAILED
    notification.refresh_from_db()
    assert (notification.status, notification.attempts) == (Status.FAILED, 1)


def test_the_backoff_doubles_per_attempt_with_jitter_up_to_the_cap(sms_gateway, settings):
    settings.NOTIFICATION_MAX_ATTEMPTS = 10
    settings.NOTIFICATION_RETRY_BASE_DELAY = 10.0
    settings.NOTIFICATION_RETRY_MAX_DELAY = 25.0
    sms_gateway.fail_next(HTTPStatus.SERVICE_UNAVAILABLE, times=4)
    notification = Notification.objects.get(patient=_ann())

    delays = [notification_deliver(notification_id=notification.pk).retry_in for _ in range(4)]

    # Between half and all of 10, 20, then 40 and 80 capped at 25.
    assert 5 <= delays[0] <= 10
    assert 10 <= delays[1] <= 20
    assert 12.5 <= delays[2] <= 25
    assert 12.5 <= delays[3] <= 25


def test_a_gateway_timeout_is_retried_and_the_retry_is_not_delivered_twice(sms_gateway, settings):
    # The fake gateway delivers, then answers too late: the sender cannot tell it was sent.
    settings.SMS_TIMEOUT = 0.1
    sms_gateway.delay = 0.5
    notification = Notification.objects.get(patient=_ann())

    first = notification_deliver(notification_id=notification.pk)
    sms_gateway.delay = 0
    second = notification_deliver(notification_id=notification.pk)

    assert (first.status, second.status) == (Status.PENDING, Status.SENT)
    notification.refresh_from_db()
    assert (notification.status, notification.attempts) == (Status.SENT, 2)
    # Sent again under the same id, which the gateway honours as an idempotency key.
    assert sms_gateway.requests[str(notification.pk)] == 2
    assert list(sms_gateway.delivered) == [str(notification.pk)]


def test_a_gateway_refusing_connections_is_transient(sms_gateway, settings):
    settings.SMS_GATEWAY_URL = "http://127.0.0.1:1"
    notification = Notification.objects.get(patient=_ann())

    outcome = notification_deliver(notification_id=notification.pk)

    assert outcome.status == Status.PENDING
    assert outcome.retry_in > 0
    notification.refresh_from_db()
    assert (notification.status, notification.attempts) == (Status.PENDING, 1)
    assert "unreachable" in notification.last_error


@pytest.mark.parametrize(
    "failure", [HTTPStatus.SERVICE_UNAVAILABLE, HTTPStatus.BAD_REQUEST, "refused"]
)
def test_the_kept_error_never_holds_the_phone_number(sms_gateway, settings, failure):
    if failure == "refused":
        settings.SMS_GATEWAY_URL = "http://127.0.0.1:1"
    else:
        sms_gateway.fail_next(failure)
    notification = Notification.objects.get(patient=_ann())

    notification_deliver(notification_id=notification.pk)

    notification.refresh_from_db()
    assert notification.last_error
    assert "0101234" not in notification.last_error


# Delivery by email


def _email_notification() -> Notification:
    return Notification.objects.get(patient=_ann(preferred_channel="email"))


def test_deliver_sends_one_email_with_the_notification_id_as_message_id(smtp_server, settings):
    settings.CLINIC_NAME = "Harbour Street Clinic"
    notification = _email_notification()

    outcome = notification_deliver(notification_id=notification.pk)
    again = notification_deliver(notification_id=notification.pk)

    assert (outcome.status, again.status) == (Status.SENT, "not_claimed")
    message_id = f"<{notification.pk}@{settings.EMAIL_MESSAGE_ID_DOMAIN}>"
    assert smtp_server.received == {message_id: 1}
    message = smtp_server.delivered[message_id]
    assert message["To"] == "ann@example.com"
    assert message["Subject"] == "Welcome to Harbour Street Clinic"
    body = message.get_payload()
    assert "Ann" in body
    assert "Marlowe" not in body
    notification.refresh_from_db()
    assert (notification.status, notification.attempts) == (Status.SENT, 1)
    assert notification.sent_at is not None


def test_a_recipient_rejected_with_550_fails_at_once(smtp_server):
    smtp_server.reject_with = "550 5.1.1 <ann@example.com>: mailbox unavailable"
    notification = _email_notification()

    outcome = notification_deliver(notification_id=notification.pk)

    assert (outcome.status, outcome.retry_in) == (Status.FAILED, None)
    notification.refresh_from_db()
    assert (notification.status, notification.attempts) == (Status.FAILED, 1)
    assert "550" in notification.last_error
    assert "ann@example.com" not in notification.last_error
    assert not smtp_server.delivered


def test_a_recipient_deferred_with_450_stays_pending(smtp_server):
    smtp_server.reject_with = "450 4.2.1 <ann@example.com>: try again later"
    notification = _email_notification()

    outcome = notification_deliver(notification_id=notification.pk)

    assert outcome.status == Status.PENDING
    assert outcome.retry_in > 0
    notification.refresh_from_db()
    assert (notification.status, notification.attempts) == (Status.PENDING, 1)
    assert "450" in notification.last_error
    assert "ann@example.com" not in notification.last_error
    assert notification.next_attempt_at > timezone.now()


def test_an_smtp_server_refusing_connections_is_transient(settings):
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT = "127.0.0.1", 1
    notification = _email_notification()

    outcome = notification_deliver(notification_id=notification.pk)

    assert outcome.status == Status.PENDING
    notification.refresh_from_db()
    assert (notification.status, notification.attempts) == (Status.PENDING, 1)
    assert "unreachable" in notification.last_error


# The sweep


@pytest.fixture
def long_ago(settings):
    """A time older than the sweep's threshold."""
    return timezone.now() - settings.NOTIFICATION_STALE_AFTER - timedelta(minutes=1)


def _notification(**fields) -> Notification:
    return Notification.objects.create(
        patient=fields.pop("patient", None) or PatientFactory(),
        channel="sms",
        kind=Kind.WELCOME,
        recipient="+15550101234",
        **fields,
    )


def test_the_sweep_reenqueues_a_long_pending_notification(queue_length, long_ago):
    stuck = _notification(status=Status.PENDING, next_attempt_at=long_ago, created_at=long_ago)
    before = queue_length()

    swept = notifications_sweep()

    assert swept == 1
    assert queue_length() == before + 1
    stuck.refresh_from_db()
    assert stuck.status == Status.PENDING
    # Not due again for another threshold, so a slow queue is not flooded with copies.
    assert timezone.now() - timedelta(seconds=10) < stuck.next_attempt_at <= timezone.now()


def test_the_sweep_makes_a_dead_workers_claim_claimable_again(long_ago, sms_gateway):
    stuck = _notification(
        status=Status.SENDING, attempts=1, claimed_at=long_ago, created_at=long_ago
    )

    notifications_sweep()

    stuck.refresh_from_db()
    assert stuck.status == Status.PENDING
    assert notification_deliver(notification_id=stuck.pk).status == Status.SENT
    stuck.refresh_from_db()
    assert stuck.attempts == 2


def test_the_sweep_leaves_fresh_rows_alone(queue_length, long_ago):
    now = timezone.now()
    pending = _notification(status=Status.PENDING, next_attempt_at=now)
    sending = _notification(status=Status.SENDING, claimed_at=now)
    backing_off = _notification(
        status=Status.PENDING, created_at=long_ago, next_attempt_at=now + timedelta(minutes=5)
    )
    sent = _notification(status=Status.SENT, next_attempt_at=long_ago, sent_at=long_ago)
    failed = _notification(status=Status.FAILED, next_attempt_at=long_ago)
    before = queue_length()

    swept = notifications_sweep()

    assert swept == 0
    assert queue_length() == before
    for row, status in [
        (pending, Status.PENDING),
        (sending, Status.SENDING),
        (backing_off, Status.PENDING),
        (sent, Status.SENT),
        (failed, Status.FAILED),
    ]:
        next_attempt_at = row.next_attempt_at
        row.refresh_from_db()
        assert (row.status, row.next_attempt_at) == (status, next_attempt_at)


def test_the_sweep_counts_every_notification_it_enqueues(queue_length, long_ago):
    for _ in range(3):
        _notification(status=Status.PENDING, next_attempt_at=long_ago)
    _notification(status=Status.PENDING)
    before = queue_length()

    swept = notifications_sweep()

    assert swept == 3
    assert queue_length() == before + 3


def test_a_second_sweep_at_once_does_not_enqueue_copies(queue_length, long_ago):
    _notification(status=Status.PENDING, next_attempt_at=long_ago)
    notifications_sweep()
    before = queue_length()

    swept = notifications_sweep()

    assert swept == 0
    assert queue_length() == before


# Resend


def test_resend_queues_a_new_pending_row_for_the_same_message(django_capture_on_commit_callbacks):
    original = _notification(status=Status.FAILED, attempts=3, last_error="gateway answered 400")

    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        copy = notification_resend(notification=original)

    assert copy.pk != original.pk
    copy.refresh_from_db()
    assert (copy.patient, copy.channel, copy.kind, copy.recipient) == (
        original.patient,
        original.channel,
        original.kind,
        original.recipient,
    )
    assert (copy.status, copy.attempts, copy.last_error) == (Status.PENDING, 0, "")
    assert len(callbacks) == 1
    original.refresh_from_db()
    assert (original.status, original.attempts) == (Status.FAILED, 3)


def test_a_resent_notification_is_delivered_under_its_new_id(sms_gateway):
    original = Notification.objects.get(patient=_ann())
    notification_deliver(notification_id=original.pk)

    copy = notification_resend(notification=original)
    notification_deliver(notification_id=copy.pk)

    assert set(sms_gateway.delivered) == {str(original.pk), str(copy.pk)}


def test_the_sweep_enqueues_a_dead_workers_notice_in_the_same_run(queue_length, long_ago):
    stuck = _notification(
        status=Status.SENDING,
        attempts=1,
        claimed_at=long_ago,
        created_at=long_ago,
        next_attempt_at=long_ago,
    )
    before = queue_length()

    swept = notifications_sweep()

    assert swept == 1
    assert queue_length() == before + 1
    stuck.refresh_from_db()
    assert stuck.status == Status.PENDING


def test_the_sweep_fails_a_notice_whose_every_attempt_lost_its_worker(
    queue_length, long_ago, settings
):
    settings.NOTIFICATION_MAX_ATTEMPTS = 3
    stuck = _notification(
        status=Status.SENDING, attempts=3, claimed_at=long_ago, next_attempt_at=long_ago
    )
    before = queue_length()

    notifications_sweep()

    stuck.refresh_from_db()
    assert stuck.status == Status.FAILED
    assert stuck.last_error == "worker lost during every attempt"
    assert queue_length() == before


# Opt-outs and errors at delivery time


def test_a_notice_for_a_channel_opted_out_since_it_was_queued_is_skipped_unsent(sms_gateway):
    patient = _ann()
    patient_update(patient=patient, data={"sms_opt_out": True})
    welcome = Notification.objects.get(kind=Kind.WELCOME)

    outcome = notification_deliver(notification_id=welcome.pk)

    welcome.refresh_from_db()
    assert outcome.status == "not_claimed"
    assert (welcome.status, welcome.attempts) == (Status.SKIPPED, 0)
    assert "opted out of sms" in welcome.last_error
    assert sms_gateway.total_requests() == 0


def test_an_unforeseen_error_is_retried_then_failed_instead_of_stuck_sending(smtp_server, settings):
    # A misconfiguration the start-up check would refuse: Django raises ValueError at send.
    settings.EMAIL_USE_TLS = settings.EMAIL_USE_SSL = True
    settings.NOTIFICATION_MAX_ATTEMPTS = 2
    notification = Notification.objects.get(patient=_ann(preferred_channel="email"))

    first = notification_deliver(notification_id=notification.pk)
    notification.refresh_from_db()
    status_after_first = notification.status
    Notification.objects.filter(pk=notification.pk).update(next_attempt_at=timezone.now())
    second = notification_deliver(notification_id=notification.pk)
    notification.refresh_from_db()

    assert first.status == Status.PENDING
    assert first.retry_in is not None
    assert status_after_first == Status.PENDING
    assert second.status == Status.FAILED
    assert (notification.status, notification.attempts) == (Status.FAILED, 2)
    assert notification.last_error == "unexpected ValueError in delivery"
    assert not smtp_server.delivered
