"""The notification outbox: one row per message to one address, written in the same
transaction as the patient change that calls for it."""

import uuid

from django.db import models
from django.utils import timezone


class Channel(models.TextChoices):
    """How a message reaches someone."""

    SMS = "sms", "SMS"
    EMAIL = "email", "Email"


# What an erased personal field of a notice reads.
ERASED = "[erased]"


class Notification(models.Model):
    """A message to a patient. Its id is the idempotency key the gateways see."""

    class Kind(models.TextChoices):
        WELCOME = "welcome", "Welcome"
        DETAILS_CHANGED = "details_changed", "Details changed"

    class Status(models.TextChoices):
        PENDING = "pending", "Pending"
        SENDING = "sending", "Sending"
        SENT = "sent", "Sent"
        FAILED = "failed", "Failed"
        SKIPPED = "skipped", "Skipped"

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    # Kept when the patient is deleted: a notice already committed still goes out (a record
    # changed and then deleted must still warn its old address), and the outbox stays the
    # record of what was sent. The first name is all a message needs of the patient.
    # Named as a string: the outbox stores who a notice is about, and imports nothing of the
    # app that decides who is told.
    patient = models.ForeignKey(
        "patients.Patient", on_delete=models.SET_NULL, null=True, related_name="notifications"
    )
    # The same patient's id, kept when the link above is cleared by the patient's deletion:
    # the retention purge finds a deleted patient's notices by it.
    patient_ref = models.UUIDField(null=True, blank=True, editable=False, db_index=True)
    first_name = models.CharField(max_length=200, blank=True)
    channel = models.CharField(max_length=5, choices=Channel)
    kind = models.CharField(max_length=20, choices=Kind)
    recipient = models.CharField(max_length=254)
    status = models.CharField(max_length=10, choices=Status, default=Status.PENDING)
    attempts = models.PositiveIntegerField(default=0)
    # Why it was skipped or why the last attempt failed; never holds an address.
    last_error = models.CharField(max_length=500, blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(auto_now=True)
    # When a pending row is next due (a retry waits for its backoff) ...
    next_attempt_at = models.DateTimeField(default=timezone.now)
    # ... and when a worker claimed it: a row left `sending` long after is a worker that died.
    claimed_at = models.DateTimeField(null=True, blank=True)
    sent_at = models.DateTimeField(null=True, blank=True)
    # Set when publishing its task failed or timed out (the broker was down or hung), so the
    # next sweep publishes it at once instead of waiting NOTIFICATION_STALE_AFTER.
    unpublished = models.BooleanField(default=False)
    # Consent was withdrawn while a worker was sending it: that send finishes, but the
    # notice is never tried again (a retry or the sweep skips it instead).
    withdrawn = models.BooleanField(default=False)
    # Set when the retention purge erased the recipient and first name (they read ERASED).
    erased_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(fields=["status", "next_attempt_at"], name="notification_due_idx"),
            models.Index(fields=["patient", "-created_at"], name="notification_patient_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} by {self.channel} ({self.status})"
