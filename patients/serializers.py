"""Shapes of patient data in and out of the API. Validation only; writes are in services."""

from datetime import datetime, tzinfo

from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import models
from django.utils import timezone
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from api.serializers import ObjectInput, StrictBooleanField, StrictCharField, StrictEmailField
from patients.models import EDITABLE_FIELDS, Patient
from patients.validators import (
    normalize_email,
    normalize_name,
    normalize_phone,
    validate_birth_date,
    validate_name,
    validate_phone,
)


class NameField(StrictCharField):
    """A name in its stored form (trimmed, NFC), with at least one letter and nothing
    invisible."""

    def __init__(self, **kwargs):
        super().__init__(max_length=200, validators=[validate_name], **kwargs)

    def to_internal_value(self, data):
        return normalize_name(super().to_internal_value(data))


class PhoneField(StrictCharField):
    """A phone number, normalized (digits of any script made ASCII, separators removed)
    before it is validated."""

    RAW_MAX_LENGTH = 64

    def __init__(self, **kwargs):
        # Raw input may carry separators, so its cap is looser than the stored form's.
        super().__init__(max_length=self.RAW_MAX_LENGTH, **kwargs)

    def to_internal_value(self, data):
        raw = super().to_internal_value(data)
        if len(raw) > self.RAW_MAX_LENGTH:
            self.fail("max_length", max_length=self.RAW_MAX_LENGTH)
        value = normalize_phone(raw)
        validate_phone(value)
        return value


class CanonicalEmailField(StrictEmailField):
    """An email address in its stored form (see `normalize_email`), so the syntax check and
    the database's uniqueness both see the one spelling mail is routed by; input that has no
    such form is an invalid email."""

    def to_internal_value(self, data):
        try:
            return normalize_email(super().to_internal_value(data))
        except DjangoValidationError:
            self.fail("invalid")


def _messages(label: str, max_length: int) -> dict:
    return {
        "required": f"{label} is required.",
        "blank": f"{label} may not be blank.",
        "null": f"{label} may not be null.",
        "invalid": f"{label} must be a string.",
        "max_length": f"{label} must be at most {max_length} characters.",
    }


class PatientInputSerializer(ObjectInput, serializers.ModelSerializer):
    """The body of POST, PUT and PATCH: the editable fields, in the original's order of checks
    (name, phone, email), so the first missing one is named in `"error"`. Uniqueness is the
    database's to enforce (a 409), not a query here."""

    name = NameField(error_messages=_messages("Name", 200))
    phone = PhoneField(
        error_messages={
            **_messages("Phone", 64),
            "max_length": "Invalid phone number format",
        }
    )
    email = CanonicalEmailField(
        max_length=254,
        error_messages={**_messages("Email", 254), "invalid": "Invalid email format"},
    )

    birth_date = serializers.DateField(
        required=False,
        allow_null=True,
        input_formats=["iso-8601"],
        validators=[validate_birth_date],
        error_messages={"invalid": "Birth date must be a date: YYYY-MM-DD."},
    )

    # The opt-outs: JSON booleans, not 0 or "no" (found by the OpenAPI fuzzer).
    serializer_field_mapping = {
        **serializers.ModelSerializer.serializer_field_mapping,
        models.BooleanField: StrictBooleanField,
    }

    class Meta:
        model = Patient
        fields = EDITABLE_FIELDS


class PatientSerializer(serializers.ModelSerializer):
    """A patient as the API shows it.

    The fields are DRF's, from the model (the OpenAPI document is made from them), but the
    output is written out in to_representation: every read shows a patient, or a page of 50,
    and DRF's way (building the fields from the model anew for each serializer, then a call
    per field per patient) was a tenth of a read's time and most of a page's. A test checks
    that the two give the same JSON (patients/tests/test_patient_detail.py).
    """

    class Meta:
        model = Patient
        fields = ["id", *EDITABLE_FIELDS, "version", "created_at", "updated_at"]
        read_only_fields = fields

    def to_representation(self, patient: Patient) -> dict:
        shown = {"id": str(patient.id)}
        for field in EDITABLE_FIELDS:
            shown[field] = getattr(patient, field)
        if patient.birth_date is not None:
            shown["birth_date"] = patient.birth_date.isoformat()
        shown["version"] = patient.version
        zone = timezone.get_current_timezone()
        shown["created_at"] = _instant(patient.created_at, zone)
        shown["updated_at"] = _instant(patient.updated_at, zone)
        return shown


def _instant(value: datetime, zone: tzinfo) -> str:
    """As DRF's DateTimeField shows an instant: ISO 8601 in the current time zone, UTC as Z."""
    shown = value.astimezone(zone).isoformat()
    return shown[:-6] + "Z" if shown.endswith("+00:00") else shown


class PatientListQuerySerializer(serializers.Serializer):
    """Query parameters of GET /patients (the cursor and limit belong to the paginator)."""

    search = serializers.CharField(required=False, allow_blank=True, max_length=200)
    count = serializers.BooleanField(required=False, default=False)


class PatientSnapshotSerializer(serializers.Serializer):
    """A patient as one version recorded them."""

    name = serializers.CharField()
    phone = serializers.CharField()
    email = serializers.CharField()
    preferred_channel = serializers.CharField()
    sms_opt_out = serializers.BooleanField()
    email_opt_out = serializers.BooleanField()
    birth_date = serializers.DateField(allow_null=True)


class PatientVersionSerializer(serializers.Serializer):
    """One entry of a patient's history (from patients.selectors.patient_versions_described)."""

    version = serializers.IntegerField(source="version.version")
    at = serializers.DateTimeField(source="version.history_date")
    actor = serializers.SerializerMethodField()
    via = serializers.CharField(source="version.via")
    kind = serializers.ChoiceField(choices=["created", "updated", "deleted", "restored"])
    changed = serializers.ListField(child=serializers.CharField())
    patient = serializers.SerializerMethodField()

    def get_actor(self, entry) -> str | None:
        user = entry["version"].history_user
        return user.get_username() if user is not None else None

    @extend_schema_field(PatientSnapshotSerializer(allow_null=True))
    def get_patient(self, entry) -> dict | None:
        # A version whose personal fields the retention purge erased shows none.
        version = entry["version"]
        if version.erased_at is not None:
            return None
        return PatientSnapshotSerializer(version).data
