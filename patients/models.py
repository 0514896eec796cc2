"""The patient record."""

import uuid

from django.db import models
from django.db.models.functions import Lower

from notifications.models import Channel
from patients.validators import PHONE_MAX_LENGTH, validate_phone

# What staff and clients may set, in the order the API checks them (the original named the
# first missing one of name, phone and email). The API, the admin and the services use this.
EDITABLE_FIELDS = ("name", "phone", "email", "preferred_channel", "sms_opt_out", "email_opt_out")
# Each channel's address and opt-out field.
CONTACT_FIELDS = {Channel.SMS: "phone", Channel.EMAIL: "email"}
OPT_OUT_FIELDS = {Channel.SMS: "sms_opt_out", Channel.EMAIL: "email_opt_out"}


class Patient(models.Model):
    """A patient of the clinic. Email and phone are stored normalized and are unique."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    name = models.CharField(max_length=200)
    email = models.EmailField(max_length=254, unique=True)
    phone = models.CharField(max_length=PHONE_MAX_LENGTH, unique=True, validators=[validate_phone])
    # Where notices go (SMS by default, as the original), and the channels the patient opted
    # out of: a notice for an opted-out channel is recorded as skipped, never sent.
    preferred_channel = models.CharField(
        max_length=5,
        choices=Channel,
        default=Channel.SMS,
        help_text="Where notices go: sms (the default) or email.",
    )
    sms_opt_out = models.BooleanField("opted out of SMS", default=False, help_text="Send no SMS.")
    email_opt_out = models.BooleanField(
        "opted out of email", default=False, help_text="Send no email."
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["created_at", "id"], name="patient_created_id_idx")]
        constraints = [
            # Services store emails lowercased; the database refuses anything else, so a
            # write that bypasses them cannot create a case-variant duplicate.
            models.CheckConstraint(
                condition=models.Q(email=Lower("email")), name="patient_email_lowercase"
            ),
        ]

    def __str__(self) -> str:
        # The first name only: this string appears in admin messages and the admin's log.
        return f"{self.first_name or 'patient'} ({str(self.id)[:8]})"

    def address(self, channel: str) -> str:
        """The patient's address on a channel: the phone for SMS, the email for email."""
        return getattr(self, CONTACT_FIELDS[channel])

    def refuses(self, channel: str) -> bool:
        """Whether the patient opted out of a channel."""
        return getattr(self, OPT_OUT_FIELDS[channel])

    @property
    def first_name(self) -> str:
        """The only part of the name that notices and logs may carry."""
        parts = self.name.split()
        return parts[0] if parts else ""
