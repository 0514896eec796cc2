"""The notification outbox: what a patient change queues, how one notice is delivered, and the
sweep that keeps the promise when the broker or a worker was down.

A notice is a row first (in the patient change's own transaction), a task second (enqueued
after commit, by id). Delivery claims the row with one conditional update, so a retry, the
sweep and a second worker can never send it at the same time.
"""

import logging
import random
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import timedelta

from django.conf import settings
from django.contrib.auth.models import AbstractBaseUser
from django.db import transaction
from django.db.models import Case, F, Q, QuerySet, Value, When
from django.template.loader import render_to_string
from django.utils import timezone

from api.exceptions import ApplicationError
from notifications.backends import deliver
from notifications.backends.base import (
    OutgoingMessage,
    PermanentDeliveryError,
    TransientDeliveryError,
)
from notifications.models import ERASED, Notification
from notifications.publisher import publish

# Ids and outcomes only: addresses and names never go into logs.
logger = logging.getLogger(__name__)

Status = Notification.Status
SUBJECTS = {
    Notification.Kind.WELCOME: "Welcome to {clinic}",
    Notification.Kind.DETAILS_CHANGED: "Your details at {clinic} were changed",
}
FINAL_STATUSES = (Status.SENT, Status.FAILED, Status.SKIPPED)
UNSENT = (Status.PENDING, Status.SENDING)
WITHDRAWN_REASON = "consent withdrawn during a send"
DELIVER_TASK = "notifications.tasks.notification_deliver_task"


class NotificationInProgress(ApplicationError):
    message = "This notification is still on its way; it can be resent once it is done"


class NotificationErased(ApplicationError):
    message = "This notification's recipient was erased; it cannot be resent"


@dataclass(frozen=True)
class DeliveryOutcome:
    status: str
    retry_in: float | None = None


@dataclass(frozen=True)
class Recipient:
    """Where one notice goes, as the caller decided: a channel, an address on it, and whether
    the person refused that channel (the notice is then kept as skipped and never sent)."""

    channel: str
    address: str
    refused: bool = False


# Whether a notice may be sent again now: the app that decides who is told registers this at
# start-up (this app imports none of it), and a resend asks it.
ResendConsent = Callable[[Notification], bool]
_resend_consent: ResendConsent = lambda notification: True  # noqa: E731


def resend_consent_register(check: ResendConsent) -> None:
    """Set the check that says whether a notice may be resent to its recipient now."""
    global _resend_consent
    _resend_consent = check


def notifications_queue(
    *,
    patient_id,
    first_name: str,
    kind: str,
    recipients: Iterable[Recipient],
    patient_ref=None,
) -> list[Notification]:
    """Write one notice per distinct recipient, and enqueue the sendable ones once the
    caller's transaction commits. Call it inside the transaction of the change that calls
    for the notices. A refused recipient gets a `skipped` row with the reason.

    `patient_ref` is for a notice about a patient who no longer exists (a resend): their id,
    which `patient_id` (a link to an existing record) cannot hold."""
    notifications, seen = [], set()
    for recipient in recipients:
        if (recipient.channel, recipient.address) in seen:
            continue
        seen.add((recipient.channel, recipient.address))
        notifications.append(
            Notification(
                patient_id=patient_id,
                patient_ref=patient_id if patient_id is not None else patient_ref,
                first_name=first_name,
                channel=recipient.channel,
                kind=kind,
                recipient=recipient.address,
                status=Status.SKIPPED if recipient.refused else Status.PENDING,
                last_error=_refusal_reason(recipient.channel) if recipient.refused else "",
            )
        )
    Notification.objects.bulk_create(notifications)
    _enqueue_on_commit([n.pk for n in notifications if n.status == Status.PENDING])
    return notifications


def notifications_cancel(*, patient_id, channel: str, address: str) -> int:
    """Skip the notices not yet sent to this address on this channel: the person withdrew
    consent. One a worker is sending now cannot be called back, but it is never tried again.
    Returns how many were skipped."""
    notices = Notification.objects.filter(patient_id=patient_id, channel=channel, recipient=address)
    # One statement marks both, so a claim made in between still finds the mark.
    notices.filter(status__in=UNSENT).update(withdrawn=True)
    return notices.filter(status=Status.PENDING).update(
        status=Status.SKIPPED, last_error=_refusal_reason(channel), updated_at=timezone.now()
    )


def notification_resend(
    *, notification: Notification, actor: AbstractBaseUser | None = None
) -> Notification:
    """Queue the same message to the same address again, as a new row: a gateway that
    dedupes by id would swallow a resend under the old id. Only a notice that is done (sent,
    failed or skipped) can be resent; one still on its way would go out twice. One whose
    recipient the retention purge erased has nowhere to go (NotificationErased)."""
    notification.refresh_from_db(fields=["status", "erased_at", "recipient", "first_name"])
    if notification.erased_at is not None:
        raise NotificationErased()
    if notification.status not in FINAL_STATUSES:
        raise NotificationInProgress()
    with transaction.atomic():
        (copy,) = notifications_queue(
            patient_id=notification.patient_id,
            patient_ref=notification.patient_ref,
            first_name=notification.first_name,
            kind=notification.kind,
            recipients=[
                Recipient(
                    notification.channel,
                    notification.recipient,
                    refused=not _resend_consent(notification),
                )
            ],
        )
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
    # Due ones only: an early or duplicate message must not cut a retry's backoff short. The
    # second of slack is for a retry's own message, whose countdown starts a moment after
    # next_attempt_at was set.
    pending = Notification.objects.filter(
        pk=notification_id,
        status=Status.PENDING,
        withdrawn=False,
        next_attempt_at__lte=timezone.now() + timedelta(seconds=1),
    )
    notification = pending.first()
    if notification is None:
        # Sent, failed, skipped (consent withdrawn), not yet due, or another worker holds it.
        return DeliveryOutcome(status="not_claimed")
    now = timezone.now()
    # A row marked unpublished whose message got through after all is published now.
    claimed = pending.update(
        status=Status.SENDING,
        attempts=F("attempts") + 1,
        claimed_at=now,
        unpublished=False,
        updated_at=now,
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
        claim = Notification.objects.filter(pk=notification.pk, status=Status.SENDING)
        _release(claim, error=error, next_attempt_at=timezone.now() + timedelta(seconds=delay))
        if not Notification.objects.filter(pk=notification.pk, status=Status.PENDING).exists():
            return DeliveryOutcome(status=Status.SKIPPED)  # consent withdrawn meanwhile
        logger.info(
            "notification %s attempt %s failed, retrying in %.1fs",
            notification.pk,
            notification.attempts,
            delay,
        )
        _enqueue([notification.pk], countdown=delay)
        return DeliveryOutcome(status=Status.PENDING, retry_in=delay)
    return _finish(notification, Status.SENT)


def notifications_sweep() -> int:
    """Re-enqueue what no task will deliver: rows whose publish failed (at once), and rows
    left `pending` (a message lost with the broker) or `sending` (the worker died mid-send).

    Those last two must have been so for NOTIFICATION_STALE_AFTER, which is longer than a
    send can take, so a row a live worker holds is left alone. Returns how many were
    enqueued.
    """
    now = timezone.now()
    stale = now - settings.NOTIFICATION_STALE_AFTER
    # A dead worker's claim: make the row claimable again (it is due: its next_attempt_at
    # came before the claim), unless it has used up its attempts, dying each time.
    abandoned = Notification.objects.filter(status=Status.SENDING, claimed_at__lt=stale)
    abandoned.filter(attempts__gte=settings.NOTIFICATION_MAX_ATTEMPTS, withdrawn=False).update(
        status=Status.FAILED, last_error="worker lost during every attempt", updated_at=now
    )
    _release(abandoned)
    due = list(
        Notification.objects.filter(status=Status.PENDING)
        .filter(Q(unpublished=True, next_attempt_at__lte=now) | Q(next_attempt_at__lt=stale))
        .order_by("next_attempt_at")
        .values_list("pk", flat=True)[: settings.NOTIFICATION_SWEEP_BATCH]
    )
    if due:
        # Not due again for another threshold, so a slow queue is not flooded with copies.
        Notification.objects.filter(pk__in=due, status=Status.PENDING).update(
            next_attempt_at=now, unpublished=False, updated_at=now
        )
        _enqueue(due)
        logger.info("sweep re-enqueued %s notifications", len(due))
    return len(due)


def _refusal_reason(channel: str) -> str:
    return f"patient opted out of {channel}"


def _release(claims: QuerySet[Notification], error: str | None = None, **fields) -> None:
    """Give claimed notices back to be tried again, in one statement: `pending`, or `skipped`
    where consent was withdrawn during the send (checked in the same UPDATE, so a withdrawal
    cannot slip in between)."""
    withdrawn = Q(withdrawn=True)
    kept_error = Value(error) if error is not None else F("last_error")
    fields["last_error"] = Case(When(withdrawn, then=Value(WITHDRAWN_REASON)), default=kept_error)
    claims.update(
        status=Case(When(withdrawn, then=Value(Status.SKIPPED)), default=Value(Status.PENDING)),
        updated_at=timezone.now(),
        **fields,
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


def _enqueue(ids: list, countdown: float | None = None) -> None:
    """Publish one delivery task per id, waiting NOTIFICATION_PUBLISH_TIMEOUT at most in all.
    A broker that is down or hung loses nothing and fails no request: the rows it did not
    take stay pending, marked for the first sweep once they are due."""
    unpublished = publish(
        DELIVER_TASK,
        [str(notification_id) for notification_id in ids],
        timeout=settings.NOTIFICATION_PUBLISH_TIMEOUT,
        retry_policy=settings.NOTIFICATION_PUBLISH_RETRY,
        countdown=countdown,
    )
    if unpublished:
        Notification.objects.filter(pk__in=unpublished, status=Status.PENDING).update(
            unpublished=True
        )
        logger.warning("%s notifications left to the next sweep", len(unpublished))


ERASED_REASON = "the patient's data was erased"


def notifications_erase(*, patient_id) -> int:
    """Erase the personal fields (recipient, first name) of every notice about a patient,
    deleted or not, keeping the rest: ids, kind, channel, status, attempts, times. A notice
    not yet sent is skipped (or, if a worker is sending it, never tried again): its address
    is gone. Call it inside the caller's transaction. Returns how many were erased."""
    return _erase(Notification.objects.filter(patient_ref=patient_id))


def notifications_erase_unlinked(*, created_before) -> int:
    """Erase the notices created before a time whose patient is unknown: their patient was
    deleted before notices kept the patient's id, when, nobody knows (migration 0004).
    Returns how many were erased."""
    return _erase(
        Notification.objects.filter(
            patient__isnull=True, patient_ref__isnull=True, created_at__lt=created_before
        )
    )


def _erase(notices: QuerySet[Notification]) -> int:
    notices = notices.filter(erased_at__isnull=True)
    now = timezone.now()
    notices.filter(status__in=UNSENT).update(withdrawn=True)
    notices.filter(status=Status.PENDING).update(
        status=Status.SKIPPED, last_error=ERASED_REASON, updated_at=now
    )
    # updated_at is left as it was: it says when the notice's status last changed.
    return notices.update(recipient=ERASED, first_name=ERASED, erased_at=now)
