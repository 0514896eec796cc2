"""The notification outbox: what a patient change queues, how one notice is delivered, and the
sweep that keeps the promise when the broker or a worker was down.

A notice is a row first (in the patient change's own transaction), a task second (enqueued
after commit, by id). Delivery claims the row with one conditional update, so a retry, the
sweep and a second worker can never send it at the same time.
"""

import logging
import random
from dataclasses import dataclass
from datetime import timedelta

from django.conf import settings
from django.contrib.auth.models import AbstractBaseUser
from django.db import transaction
from django.db.models import F
from django.template.loader import render_to_string
from django.utils import timezone

from notifications.backends import (
    OutgoingMessage,
    PermanentDeliveryError,
    TransientDeliveryError,
    deliver,
)
from notifications.models import Notification
from patients.models import Channel, Patient
from telehealth.exceptions import ApplicationError

# Ids and outcomes only: addresses and names never go into logs.
logger = logging.getLogger(__name__)

Status = Notification.Status
SUBJECTS = {
    Notification.Kind.WELCOME: "Welcome to {clinic}",
    Notification.Kind.DETAILS_CHANGED: "Your details at {clinic} were changed",
}
CONTACT_FIELDS = {Channel.SMS: "phone", Channel.EMAIL: "email"}
OPT_OUT_FIELDS = {Channel.SMS: "sms_opt_out", Channel.EMAIL: "email_opt_out"}
FINAL_STATUSES = (Status.SENT, Status.FAILED, Status.SKIPPED)


class NotificationInProgress(ApplicationError):
    message = "This notification is still on its way; it can be resent once it is done"


@dataclass(frozen=True)
class DeliveryOutcome:
    status: str
    retry_in: float | None = None


def notifications_queue(
    *, patient: Patient, kind: str, previous: dict | None = None
) -> list[Notification]:
    """Write the notices a patient change calls for, and enqueue them once it commits.

    Call inside the transaction of the change. A welcome goes to the preferred channel. A
    change goes there too and, for a phone or email that changed, to the old and the new
    address, so a hijacked record is noticed at the address it was taken from. A channel
    the patient opted out of gets a `skipped` row with the reason, and nothing is sent; the
    old address follows the opt-out the patient had before the change.
    """
    previous = previous or {}
    targets = [(patient.preferred_channel, patient.address(patient.preferred_channel), False)]
    if kind == Notification.Kind.DETAILS_CHANGED:
        for channel, field in CONTACT_FIELDS.items():
            if field in previous and previous[field] != getattr(patient, field):
                targets.append((channel, previous[field], True))
                targets.append((channel, getattr(patient, field), False))

    notifications, seen = [], set()
    for channel, recipient, is_old_address in targets:
        if (channel, recipient) in seen:
            continue
        seen.add((channel, recipient))
        opt_out_field = OPT_OUT_FIELDS[channel]
        opted_out = (
            previous.get(opt_out_field, getattr(patient, opt_out_field))
            if is_old_address
            else getattr(patient, opt_out_field)
        )
        notifications.append(
            Notification(
                patient=patient,
                first_name=patient.first_name,
                channel=channel,
                kind=kind,
                recipient=recipient,
                status=Status.SKIPPED if opted_out else Status.PENDING,
                last_error=_opt_out_reason(channel) if opted_out else "",
            )
        )
    Notification.objects.bulk_create(notifications)
    _enqueue_on_commit([n.pk for n in notifications if n.status == Status.PENDING])
    return notifications


def notification_resend(
    *, notification: Notification, actor: AbstractBaseUser | None = None
) -> Notification:
    """Queue the same message to the same address again, as a new row: a gateway that
    dedupes by id would swallow a resend under the old id. Only a notice that is done (sent,
    failed or skipped) can be resent; one still on its way would go out twice."""
    notification.refresh_from_db(fields=["status"])
    if notification.status not in FINAL_STATUSES:
        raise NotificationInProgress()
    opted_out = _opted_out_now(notification)
    with transaction.atomic():
        copy = Notification.objects.create(
            patient=notification.patient,
            first_name=notification.first_name,
            channel=notification.channel,
            kind=notification.kind,
            recipient=notification.recipient,
            status=Status.SKIPPED if opted_out else Status.PENDING,
            last_error=_opt_out_reason(notification.channel) if opted_out else "",
        )
        if not opted_out:
            _enqueue_on_commit([copy.pk])
    logger.info(
        "notification %s resent as %s by user %s",
        notification.pk,
        copy.pk,
        actor.pk if actor is not None else None,
    )
    return copy


def notification_deliver(*, notification_id) -> DeliveryOutcome:
    """Send one pending notification, at most one sender at a time.

    Returns what happened; `retry_in` (seconds) when a transient failure should be retried.
    """
    pending = Notification.objects.filter(pk=notification_id, status=Status.PENDING)
    notification = pending.select_related("patient").first()
    if notification is None:
        # Sent, failed, skipped, or another worker holds it: nothing to do.
        return DeliveryOutcome(status="not_claimed")
    if _opted_out_now(notification):
        # The patient opted out since the notice was queued.
        pending.update(
            status=Status.SKIPPED,
            last_error=_opt_out_reason(notification.channel),
            updated_at=timezone.now(),
        )
        return DeliveryOutcome(status=Status.SKIPPED)
    now = timezone.now()
    claimed = pending.update(
        status=Status.SENDING, attempts=F("attempts") + 1, claimed_at=now, updated_at=now
    )
    if claimed != 1:
        return DeliveryOutcome(status="not_claimed")  # another sender got there first
    notification.attempts += 1
    try:
        deliver(_render(notification))
    except PermanentDeliveryError as exc:
        return _finish(notification, Status.FAILED, error=str(exc))
    except Exception as exc:
        # Transient by class, or unforeseen (a bug, a misconfiguration): retried either way,
        # so attempts are counted and the notice ends `failed` instead of stuck `sending`.
        if isinstance(exc, TransientDeliveryError):
            error = str(exc)
        else:
            # The type only: an exception's text may quote the address.
            error = f"unexpected {type(exc).__name__} in delivery"
            logger.error("notification %s: %s", notification.pk, error)
        if notification.attempts >= settings.NOTIFICATION_MAX_ATTEMPTS:
            return _finish(notification, Status.FAILED, error=error)
        delay = _backoff(notification.attempts)
        Notification.objects.filter(pk=notification.pk, status=Status.SENDING).update(
            status=Status.PENDING,
            last_error=error,
            next_attempt_at=timezone.now() + timedelta(seconds=delay),
            updated_at=timezone.now(),
        )
        logger.info(
            "notification %s attempt %s failed, retrying in %.1fs",
            notification.pk,
            notification.attempts,
            delay,
        )
        return DeliveryOutcome(status=Status.PENDING, retry_in=delay)
    return _finish(notification, Status.SENT)


def notifications_sweep() -> int:
    """Re-enqueue what no task will deliver: rows left `pending` (the broker was down at
    commit, or a retry's message was lost) or `sending` (the worker died mid-send).

    Both must have been so for NOTIFICATION_STALE_AFTER, which is longer than a send can
    take, so a row a live worker holds is left alone. Returns how many were enqueued.
    """
    now = timezone.now()
    stale = now - settings.NOTIFICATION_STALE_AFTER
    # A dead worker's claim: make the row claimable again (it is due: its next_attempt_at
    # came before the claim), unless it has used up its attempts, dying each time.
    abandoned = Notification.objects.filter(status=Status.SENDING, claimed_at__lt=stale)
    abandoned.filter(attempts__gte=settings.NOTIFICATION_MAX_ATTEMPTS).update(
        status=Status.FAILED, last_error="worker lost during every attempt", updated_at=now
    )
    abandoned.update(status=Status.PENDING, updated_at=now)
    due = list(
        Notification.objects.filter(status=Status.PENDING, next_attempt_at__lt=stale)
        .order_by("next_attempt_at")
        .values_list("pk", flat=True)[: settings.NOTIFICATION_SWEEP_BATCH]
    )
    if due:
        # Not due again for another threshold, so a slow queue is not flooded with copies.
        Notification.objects.filter(pk__in=due, status=Status.PENDING).update(
            next_attempt_at=now, updated_at=now
        )
        _enqueue(due)
        logger.info("sweep re-enqueued %s notifications", len(due))
    return len(due)


def _opt_out_reason(channel: str) -> str:
    return f"patient opted out of {channel}"


def _opted_out_now(notification: Notification) -> bool:
    """Whether the patient now refuses this notice: it goes to their current address on a
    channel they opted out of. A notice to a former address keeps the consent given before
    the change, since it is how a hijacked record gets noticed."""
    patient = notification.patient
    if patient is None:
        return False  # deleted since: the consent given when the notice was queued stands
    channel = notification.channel
    return notification.recipient == patient.address(channel) and getattr(
        patient, OPT_OUT_FIELDS[channel]
    )


def _finish(notification: Notification, status: str, error: str = "") -> DeliveryOutcome:
    now = timezone.now()
    updated = Notification.objects.filter(pk=notification.pk, status=Status.SENDING).update(
        status=status,
        last_error=error,
        sent_at=now if status == Status.SENT else None,
        updated_at=now,
    )
    if not updated:
        # The send outlived NOTIFICATION_STALE_AFTER and the sweep took the row back: it
        # will be sent again, and the gateway's idempotency key makes that a no-op.
        logger.warning(
            "notification %s finished (%s) after its claim expired", notification.pk, status
        )
    if status == Status.FAILED:
        logger.warning("notification %s failed: %s", notification.pk, error)
    return DeliveryOutcome(status=status)


def _backoff(attempt: int) -> float:
    """Exponential backoff with "equal jitter" (AWS Architecture Blog, "Exponential Backoff
    and Jitter"): between half and all of base * 2^(attempt - 1), capped, so retries of many
    notices spread out yet none comes back at once."""
    ceiling = min(
        settings.NOTIFICATION_RETRY_MAX_DELAY,
        settings.NOTIFICATION_RETRY_BASE_DELAY * 2 ** (attempt - 1),
    )
    return random.uniform(ceiling / 2, ceiling)


def _render(notification: Notification) -> OutgoingMessage:
    clinic = settings.CLINIC_NAME
    context = {"first_name": notification.first_name, "clinic_name": clinic}
    return OutgoingMessage(
        id=str(notification.pk),
        channel=notification.channel,
        recipient=notification.recipient,
        subject=SUBJECTS[notification.kind].format(clinic=clinic),
        body=render_to_string(f"notifications/{notification.kind}.txt", context).strip(),
    )


def _enqueue_on_commit(ids: list) -> None:
    if ids:
        transaction.on_commit(lambda: _enqueue(ids), robust=True)


def _enqueue(ids: list) -> None:
    """Publish one delivery task per id. A broker that is down loses nothing: the rows
    stay pending and the sweep enqueues them again."""
    from notifications.tasks import notification_deliver_task

    for sent, notification_id in enumerate(ids):
        try:
            notification_deliver_task.apply_async(
                args=[str(notification_id)], retry_policy=settings.NOTIFICATION_PUBLISH_RETRY
            )
        except Exception as exc:  # the broker's errors vary by transport; none must escape
            logger.warning(
                "broker unavailable (%s): %s notifications left to the sweep",
                type(exc).__name__,
                len(ids) - sent,
            )
            return  # the rest would fail too, each after its own connection timeout
