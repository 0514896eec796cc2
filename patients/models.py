"""The patient record."""

import uuid

from django.db import models
from django.db.models.functions import Lower

from patients.validators import PHONE_MAX_LENGTH, validate_phone


class Patient(models.Model):
    """A patient of the clinic. Email and phone are stored normalized and are unique."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    name = models.CharField(max_length=200)
    email = models.EmailField(max_length=254, unique=True)
    phone = models.CharField(max_length=PHONE_MAX_LENGTH, unique=True, validators=[validate_phone])
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
        first = self.name.split()[0] if self.name.strip() else "patient"
        return f"{first} ({str(self.id)[:8]})"
