"""The access audit: who read or wrote which patients' data, when, how and with what outcome.

Records are only ever added. Nothing in the service changes or deletes one: there is no API
for it, the admin is read-only, the models have no add, change or delete permission, and the
database refuses changes too (migration 0002).
"""

from django.conf import settings
from django.db import models
from django.utils import timezone

# How much of a knox token's stored digest a record keeps: enough to tell a user's tokens
# apart, and only of the digest (a hash), never of the token itself.
TOKEN_PREFIX_LENGTH = 12
PATH_MAX_LENGTH = 2000


class Via(models.TextChoices):
    """Which face of the service the access came through."""

    API = "api", "API"
    ADMIN = "admin", "Admin"
    COMMAND = "command", "Management command"


class Action(models.TextChoices):
    """What was done. The admin pages add their own, built from the model and the page:
    `admin.<model>.<changelist|add|change|delete|history>_view` and, for an admin action run
    from the list, `admin.<model>.<action name>` (`admin.notification.resend`)."""

    PATIENT_LIST = "patient.list", "List or search patients"
    PATIENT_READ = "patient.read", "Read a patient"
    PATIENT_CREATE = "patient.create", "Create a patient"
    PATIENT_UPDATE = "patient.update", "Update a patient"
    PATIENT_DELETE = "patient.delete", "Delete a patient"
    PATIENT_HISTORY = "patient.history", "Read a patient's history"
    PATIENT_PURGE = "patient.purge", "Erase a deleted patient's personal data"
    PATIENT_NOTIFICATIONS = "patient.notifications", "Read a patient's notifications"
    PATIENT_EXPORT = "patient.export", "Export patients"
    PATIENT_IMPORT = "patient.import", "Import patients"
    DATABASE_BACKUP = "database.backup", "Back up the database"


class AccessRecord(models.Model):
    """One request (or command run) that read or wrote patient data, or tried to."""

    at = models.DateTimeField(default=timezone.now)
    # Who, as a link while the user exists and as the name they had, which outlives them.
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    username = models.CharField(max_length=150, blank=True)
    # The first characters of the token's digest (knox stores only the hash); blank for a
    # session, the admin or a command.
    token = models.CharField(max_length=TOKEN_PREFIX_LENGTH, blank=True)
    via = models.CharField(max_length=10, choices=Via)
    # A free string so that new pages and actions need no migration; see Action.
    action = models.CharField(max_length=100)
    # The HTTP status of the answer; for a command, its exit status (0 when it succeeded).
    status = models.PositiveSmallIntegerField()
    client_ip = models.GenericIPAddressField(null=True, blank=True)
    # Without the query string, which can hold a search for a name, a phone or an email.
    path = models.CharField(max_length=PATH_MAX_LENGTH, blank=True)

    class Meta:
        ordering = ["-at", "-id"]
        # Read-only for everyone: no add, change or delete permission exists to be granted.
        default_permissions = ("view",)
        indexes = [
            models.Index(fields=["at", "id"], name="accessrecord_at_idx"),
            models.Index(fields=["username", "at"], name="accessrecord_username_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.action} by {self.username or 'anonymous'} ({self.status})"


class AccessRecordPatient(models.Model):
    """One patient a record names. A table rather than a JSON list so that a patient's
    records are an indexed lookup on every database (SQLite has no JSON containment)."""

    record = models.ForeignKey(AccessRecord, on_delete=models.CASCADE, related_name="patients")
    # An id, not a foreign key: the record outlives the patient.
    patient_id = models.UUIDField()

    class Meta:
        default_permissions = ()
        indexes = [models.Index(fields=["patient_id", "record"], name="accessrecord_patient_idx")]

    def __str__(self) -> str:
        return str(self.patient_id)
