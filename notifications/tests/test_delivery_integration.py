"""Delivery with the real parts: Celery worker processes over a real redis-server, the test
database, and the fake gateway and SMTP server on loopback. The promise under test: a committed
change always gets its notices, a rolled-back one never does, and none is delivered twice."""

from datetime import timedelta
from http import HTTPStatus

import pytest
from django.db import transaction
from django_celery_results.models import TaskResult

from notifications.models import Notification
from notifications.services import notifications_sweep
from notifications.tests.conftest import wait_until
from patients.services import patient_create

pytestmark = [pytest.mark.slow, pytest.mark.django_db(transaction=True)]

Status = Notification.Status


def _patient(n: int, **kwargs):
    return patient_create(
        name=f"Pat{n} Example", email=f"pat{n}@example.com", phone=f"+1555{n:07d}", **kwargs
    )


def _all_sent(expected: int):
    return lambda: Notification.objects.filter(status=Status.SENT).count() == expected


def test_a_new_patient_gets_one_welcome_sms_from_the_worker(sms_gateway, start_worker):
    start_worker()

    patient = _patient(1)

    wait_until(_all_sent(1), what="the welcome SMS")
    notification = Notification.objects.get()
    assert (notification.kind, notification.channel) == ("welcome", "sms")
    assert notification.attempts == 1
    assert sms_gateway.delivered[str(notification.pk)]["To"] == patient.phone
    assert "Pat1" in sms_gateway.delivered[str(notification.pk)]["Body"]


def test_a_patient_preferring_email_gets_one_welcome_email(smtp_server, start_worker):
    start_worker()

    patient = _patient(2, preferred_channel="email")

    wait_until(_all_sent(1), what="the welcome email")
    notification = Notification.objects.get()
    message = smtp_server.delivered[f"<{notification.pk}@telehealth.localhost>"]
    assert message["To"] == patient.email
    assert "Pat2" in message.get_payload()


def test_a_rolled_back_change_sends_nothing(sms_gateway, start_worker):
    start_worker()

    def failing_request():
        with transaction.atomic():
            _patient(3)
            raise RuntimeError("the request failed after the patient was saved")

    with pytest.raises(RuntimeError):
        failing_request()
    # Messages are handled in order by the one worker: once the next one is delivered,
    # one for the rolled-back change would have been too.
    _patient(4)

    wait_until(_all_sent(1), what="the second patient's SMS")
    assert [form["To"] for form in sms_gateway.delivered.values()] == ["+15550000004"]
    assert Notification.objects.count() == 1


def test_two_503s_then_success_is_delivered_once_after_three_attempts(sms_gateway, start_worker):
    sms_gateway.fail_next(HTTPStatus.SERVICE_UNAVAILABLE, times=2)
    start_worker()

    _patient(5)

    wait_until(_all_sent(1), what="delivery after two 503s")
    notification = Notification.objects.get()
    assert notification.attempts == 3
    assert sms_gateway.requests[str(notification.pk)] == 3
    assert len(sms_gateway.delivered) == 1


def test_a_400_fails_at_once_without_retrying(sms_gateway, start_worker):
    sms_gateway.fail_next(HTTPStatus.BAD_REQUEST, times=5)
    start_worker()

    _patient(6)

    notification = wait_until(
        lambda: Notification.objects.filter(status=Status.FAILED).first(), what="the failure"
    )
    assert notification.attempts == 1
    assert "400" in notification.last_error
    assert sms_gateway.total_requests() == 1
    assert not sms_gateway.delivered


def test_worker_killed_mid_send_twenty_times_loses_nothing_and_sends_nothing_twice(
    sms_gateway, start_worker
):
    patients = [_patient(100 + n) for n in range(20)]
    sms_gateway.delay = 1.0  # long enough to be killed in the middle of a send

    for round_number in range(20):
        sms_gateway.received.clear()
        worker = start_worker(name=f"doomed{round_number}", beat=True)
        wait_until(sms_gateway.received.is_set, what="a send in progress")
        worker.kill()

    sms_gateway.delay = 0
    start_worker(name="survivor", beat=True)

    wait_until(_all_sent(20), timeout=90, what="every notice after the kills")
    ids = {str(n.pk) for n in Notification.objects.all()}
    assert set(sms_gateway.delivered) == ids
    assert sorted(form["To"] for form in sms_gateway.delivered.values()) == sorted(
        p.phone for p in patients
    )
    # Each kill came after the gateway took a message, so those were sent again: the
    # gateway saw their keys more than once, and delivered each exactly once.
    assert max(sms_gateway.requests.values()) >= 2
    assert sms_gateway.total_requests() > 20


def test_broker_down_while_fifty_patients_are_created_and_one_updated_all_are_delivered(
    sms_gateway, start_worker, test_redis, alice
):
    port = test_redis.port
    test_redis.stop()
    try:
        statuses = [
            alice.post(
                "/patients",
                {"name": f"Down{n} Example", "email": f"down{n}@example.com",
                 "phone": f"+1555800{n:04d}"},
                format="json",
            ).status_code
            for n in range(50)
        ]  # fmt: skip
        first = Notification.objects.order_by("created_at").first().patient
        update = alice.patch(f"/patients/{first.pk}", {"name": "Downed Example"}, format="json")
    finally:
        test_redis.start(port=port)

    assert statuses == [HTTPStatus.CREATED] * 50
    assert update.status_code == HTTPStatus.OK
    assert Notification.objects.filter(status=Status.PENDING).count() == 51
    start_worker(beat=True)  # beat runs the sweep every second; nothing else enqueues these

    wait_until(_all_sent(51), timeout=60, what="the sweep to deliver all 51")
    assert len(sms_gateway.delivered) == 51
    assert sms_gateway.total_requests() == 51
    # The task results Celery stored (the sweeps'; deliveries keep only errors) hold no
    # patient data.
    stored = list(TaskResult.objects.values_list("task_args", "task_kwargs", "result", "traceback"))
    assert stored
    assert not any(
        marker in str(row) for row in stored for marker in ("+1555800", "@example.com", "Down")
    )
    assert not TaskResult.objects.filter(task_name__endswith="notification_deliver_task").exists()


def test_two_workers_deliver_a_thousand_notices_exactly_once(sms_gateway, start_worker, settings):
    with transaction.atomic():
        for n in range(1000):
            _patient(10_000 + n)
    # The sweep enqueues every row a second time, so the workers race for each one.
    settings.NOTIFICATION_STALE_AFTER = timedelta(0)
    assert notifications_sweep() == 1000
    start_worker(name="left", concurrency=2)
    start_worker(name="right", concurrency=2)

    wait_until(_all_sent(1000), timeout=180, what="1,000 deliveries")
    assert len(sms_gateway.delivered) == 1000
    assert sms_gateway.total_requests() == 1000
    assert max(sms_gateway.requests.values()) == 1
