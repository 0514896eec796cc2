"""A broker that is down or hung never fails a committed change, never holds a request for
long, and the notices it held back go out at the first sweep once it is back. Real parts: the
run's redis-server (stopped, or frozen with SIGSTOP) and a Celery worker process with beat."""

import time
from http import HTTPStatus

import pytest

from notifications.models import Notification
from notifications.tests.conftest import wait_until

pytestmark = [pytest.mark.slow, pytest.mark.django_db(transaction=True)]

Status = Notification.Status


def _create(client, n: int):
    return client.post(
        "/patients",
        {"name": f"Out{n} Example", "email": f"out{n}@example.com", "phone": f"+1555700{n:04d}"},
        format="json",
    )


@pytest.fixture
def frozen_redis(test_redis):
    test_redis.freeze()
    yield test_redis
    test_redis.thaw()


def test_a_frozen_broker_holds_a_create_no_longer_than_the_publish_timeout(
    alice, frozen_redis, settings
):
    settings.NOTIFICATION_PUBLISH_TIMEOUT = 1.0

    started = time.monotonic()
    response = _create(alice, 1)
    elapsed = time.monotonic() - started

    # Unbounded, the publish waits for the hung server (about 30 s, or for ever); the bound
    # here is wide enough for a slow machine and far below that.
    assert elapsed < 8, f"the create waited {elapsed:.1f}s on a frozen broker"
    assert response.status_code == HTTPStatus.CREATED
    notice = Notification.objects.get()
    assert (notice.status, notice.unpublished) == (Status.PENDING, True)


def test_a_frozen_broker_holds_an_update_no_longer_than_the_publish_timeout(
    alice, test_redis, settings
):
    settings.NOTIFICATION_PUBLISH_TIMEOUT = 1.0
    patient_id = _create(alice, 2).json()["patient_id"]
    test_redis.freeze()
    try:
        started = time.monotonic()
        response = alice.patch(f"/patients/{patient_id}", {"name": "Still Example"}, format="json")
        elapsed = time.monotonic() - started
    finally:
        test_redis.thaw()

    assert elapsed < 8, f"the update waited {elapsed:.1f}s on a frozen broker"
    assert response.status_code == HTTPStatus.OK
    assert response.json()["patient"]["name"] == "Still Example"
    changed = Notification.objects.get(kind=Notification.Kind.DETAILS_CHANGED)
    assert (changed.status, changed.unpublished) == (Status.PENDING, True)


def test_a_stopped_broker_fails_no_create_and_marks_its_notice_for_the_sweep(alice, test_redis):
    port = test_redis.port
    test_redis.stop()
    try:
        response = _create(alice, 3)
    finally:
        test_redis.start(port=port)

    assert response.status_code == HTTPStatus.CREATED
    notice = Notification.objects.get()
    assert (notice.status, notice.unpublished) == (Status.PENDING, True)


def test_a_published_notice_is_not_marked_for_the_sweep(alice, test_redis):
    _create(alice, 4)

    assert Notification.objects.get().unpublished is False


@pytest.mark.parametrize("outage", ["stopped", "frozen"])
def test_notices_held_back_by_an_outage_go_out_at_the_first_sweep_after_it(
    outage, alice, test_redis, sms_gateway, start_worker, settings
):
    settings.NOTIFICATION_PUBLISH_TIMEOUT = 0.5
    port = test_redis.port
    if outage == "stopped":
        test_redis.stop()
    else:
        test_redis.freeze()
    try:
        statuses = [_create(alice, n).status_code for n in range(10, 15)]
    finally:
        if outage == "stopped":
            test_redis.start(port=port)
        else:
            test_redis.thaw()
    assert statuses == [HTTPStatus.CREATED] * 5
    assert Notification.objects.filter(status=Status.PENDING, unpublished=True).count() == 5

    # Stale rows would wait 10 minutes; the sweep runs every second. Only the mark on the
    # rows whose publish failed can get them out within the wait below.
    start_worker(beat=True, NOTIFICATION_STALE_AFTER="10m", NOTIFICATION_SWEEP_INTERVAL="1")

    wait_until(
        lambda: Notification.objects.filter(status=Status.SENT).count() == 5,
        timeout=45,
        what="the first sweeps after the outage to deliver the 5 notices",
    )
    delivered_to = sorted(form["To"] for form in sms_gateway.delivered.values())
    assert delivered_to == [f"+1555700{n:04d}" for n in range(10, 15)]
    assert not Notification.objects.filter(unpublished=True).exists()
