"""A bulk export: one kick-off of `GET /fhir/Patient/$export`, the files it wrote, and for how
long they are kept."""

import uuid

from django.conf import settings
from django.db import models

# The permission a role needs to export (accounts.services.ROLES gives it to data_manager).
EXPORT_PERMISSION = "exports.export_patients"


class ExportJob(models.Model):
    """One export, from its kick-off to the removal of its files."""

    class Status(models.TextChoices):
        ACCEPTED = "accepted"  # queued, no worker has it yet
        RUNNING = "running"
        COMPLETED = "completed"
        FAILED = "failed"
        CANCELLED = "cancelled"

    # The id is the job's name in its status and file URLs: random, so it cannot be guessed.
    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    # SET_NULL: a deleted user's jobs answer no one, yet still expire and lose their files.
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+"
    )
    status = models.CharField(max_length=10, choices=Status, default=Status.ACCEPTED)
    # _since: only patients changed after it.
    since = models.DateTimeField(null=True, blank=True)
    # The kick-off's full URL, which the manifest repeats (its parameters hold no patient data).
    request_url = models.TextField()
    # Progress: patients to write (known once a worker starts) and written so far.
    total = models.PositiveIntegerField(null=True, blank=True)
    exported = models.PositiveIntegerField(default=0)
    # Runs started: a re-delivered task starts again from scratch, up to a limit.
    attempts = models.PositiveSmallIntegerField(default=0)
    # The files, once completed: [{"type", "file" (in the URL), "name", "ids_name", "count"}].
    output = models.JSONField(default=list, blank=True)
    # Why it failed, for the status answer: never patient data.
    error = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    # The instant the export reads the data as of (the manifest's transactionTime).
    transaction_time = models.DateTimeField(null=True, blank=True)
    # Moved on at each chunk written; a job whose heartbeat stops is failed by the sweep.
    heartbeat_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    # When its files and the job itself go (EXPORT_TTL after it finished).
    expires_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]
        # Only the export permission: the jobs are managed through the API, not the admin.
        default_permissions = ()
        permissions = [("export_patients", "Can export every patient (FHIR bulk export)")]
        indexes = [
            models.Index(fields=["requested_by", "status"], name="exportjob_user_status_idx"),
            models.Index(fields=["expires_at"], name="exportjob_expires_idx"),
        ]

    def __str__(self) -> str:
        return f"export {self.pk} ({self.status})"
