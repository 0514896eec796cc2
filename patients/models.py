"""The patient record."""

import uuid

from django.db import models
from django.db.models.functions import Lower
from simple_history.models import HistoricalRecords
from simple_history.signals import pre_create_historical_record

from notifications.models import Channel
from patients.validators import (
    PHONE_MAX_LENGTH,
    first_name,
    validate_birth_date,
    validate_canonical_email,
    validate_name,
    validate_phone,
)

# What staff and clients may set, in the order the API checks them (the original named the
# first missing one of name, phone and email). The API, the admin and the services use this.
EDITABLE_FIELDS = (
    "name",
    "phone",
    "email",
    "preferred_channel",
    "sms_opt_out",
    "email_opt_out",
    "birth_date",
)
# The fields that hold personal data: the retention purge erases these from a deleted
# patient's versions. A new field that holds personal data must be listed here (a test
# fails until every field of Patient is classified as personal or not).
PERSONAL_FIELDS = ("name", "email", "phone", "birth_date")
# Each channel's address and opt-out field.
CONTACT_FIELDS = {Channel.SMS: "phone", Channel.EMAIL: "email"}
OPT_OUT_FIELDS = {Channel.SMS: "sms_opt_out", Channel.EMAIL: "email_opt_out"}


class Via(models.TextChoices):
    """Through what a change was made."""

    API = "api"
    ADMIN = "admin"
    COMMAND = "command"


class PatientVersionBase(models.Model):
    """What a version records beyond the record itself (django-simple-history adds the rest:
    when, who, and whether it was a create, an update or a delete)."""

    via = models.CharField(max_length=10, choices=Via, default=Via.COMMAND)
    # Set when the retention period's purge erased this version's personal fields.
    erased_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        abstract = True


class Patient(models.Model):
    """A patient of the clinic. Email and phone are stored normalized and are unique."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    name = models.CharField(max_length=200, validators=[validate_name])
    email = models.EmailField(max_length=254, unique=True, validators=[validate_canonical_email])
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
    # Optional (the original had none, and its clients send none); tells apart two patients
    # of the same name in the admin, and is FHIR's Patient.birthDate.
    birth_date = models.DateField(
        null=True,
        blank=True,
        validators=[validate_birth_date],
        help_text="Optional. YYYY-MM-DD.",
    )
    # Bumped by every change the services make; the API's ETag and the admin's stale-form
    # check compare it, and each version in the history carries the number it had.
    version = models.PositiveIntegerField(default=1, editable=False)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    history = HistoricalRecords(bases=[PatientVersionBase], cascade_delete_history=False)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(fields=["created_at", "id"], name="patient_created_id_idx"),
            # FHIR's birthdate search (a date or a range of them).
            models.Index(fields=["birth_date"], name="patient_birth_date_idx"),
        ]
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
        """The only part of the name that notices and logs may carry: its first word, so
        "Doe,John" gives "Doe" and never the whole name."""
        return first_name(self.name)


class DeletedPatient(Patient.history.model):
    """A patient's versions, as the admin's list of deleted patients shows them."""

    class Meta:
        proxy = True
        verbose_name = "deleted patient"
        verbose_name_plural = "deleted patients"


def _record_via(sender, instance, history_instance, **kwargs):
    # The services say through what they were called; a save outside them (a shell, a
    # migration) is recorded as a command.
    history_instance.via = getattr(instance, "_history_via", Via.COMMAND)


pre_create_historical_record.connect(_record_via, sender=Patient.history.model)
