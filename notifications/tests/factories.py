"""factory_boy factories for the notification outbox.

A `NotificationFactory()` is a pending welcome SMS to a new patient's phone, as
`patient_create` would have queued it (but nothing is published to the broker). The traits
give the other states a row goes through:

- `pending`: waiting for a worker (the default);
- `sending`: claimed by a worker just now;
- `stale`: pending, but due longer ago than NOTIFICATION_STALE_AFTER (its message was lost);
- `stuck`: claimed longer ago than NOTIFICATION_STALE_AFTER (its worker died mid-send);
- `sent`, `failed`, `skipped`: done, the last after an opt-out;
- `unpublished=True` (the row's own flag, so no trait): pending, its task never reached the
  broker.

`email=True` sends it to the patient's email instead.
"""

from datetime import timedelta

import factory
from django.conf import settings
from django.utils import timezone

from notifications.models import Channel, Notification
from patients.tests.factories import PatientFactory

Status = Notification.Status


def long_ago():
    """A time older than the sweep's threshold (read when the row is made, so a test's
    `settings.NOTIFICATION_STALE_AFTER` counts)."""
    return timezone.now() - settings.NOTIFICATION_STALE_AFTER - timedelta(minutes=1)


class NotificationFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Notification

    patient = factory.SubFactory(PatientFactory)
    # The id a deletion does not clear, as notifications_queue stores it.
    patient_ref = factory.LazyAttribute(lambda n: n.patient.pk if n.patient else None)
    first_name = factory.LazyAttribute(lambda n: n.patient.first_name if n.patient else "Pat")
    channel = Channel.SMS
    kind = Notification.Kind.WELCOME
    recipient = factory.LazyAttributeSequence(
        lambda n, i: n.patient.address(n.channel) if n.patient else f"+1555900{i:04d}"
    )
    status = Status.PENDING

    class Params:
        email = factory.Trait(channel=Channel.EMAIL)
        pending = factory.Trait(status=Status.PENDING)
        sending = factory.Trait(
            status=Status.SENDING, attempts=1, claimed_at=factory.LazyFunction(timezone.now)
        )
        stale = factory.Trait(
            status=Status.PENDING,
            created_at=factory.LazyFunction(long_ago),
            next_attempt_at=factory.LazyFunction(long_ago),
        )
        stuck = factory.Trait(
            status=Status.SENDING,
            attempts=1,
            created_at=factory.LazyFunction(long_ago),
            next_attempt_at=factory.LazyFunction(long_ago),
            claimed_at=factory.LazyFunction(long_ago),
        )
        sent = factory.Trait(
            status=Status.SENT, attempts=1, sent_at=factory.LazyFunction(timezone.now)
        )
        failed = factory.Trait(status=Status.FAILED, attempts=1, last_error="gateway answered 400")
        skipped = factory.Trait(
            status=Status.SKIPPED,
            last_error=factory.LazyAttribute(lambda n: f"patient opted out of {n.channel}"),
        )
