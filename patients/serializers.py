"""Shapes of patient data in and out of the API. Validation only; writes are in services."""

from rest_framework import serializers

from api.serializers import ObjectInput, StrictCharField, StrictEmailField
from patients.models import EDITABLE_FIELDS, Patient
from patients.validators import normalize_phone, validate_phone


class PhoneField(StrictCharField):
    """A phone number, normalized (separators removed) before it is validated."""

    def __init__(self, **kwargs):
        # Raw input may carry separators, so its cap is looser than the stored form's.
        super().__init__(max_length=64, **kwargs)

    def to_internal_value(self, data):
        value = normalize_phone(super().to_internal_value(data))
        validate_phone(value)
        return value


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

    name = StrictCharField(max_length=200, error_messages=_messages("Name", 200))
    phone = PhoneField(
        error_messages={
            **_messages("Phone", 64),
            "max_length": "Invalid phone number format",
        }
    )
    email = StrictEmailField(
        max_length=254,
        error_messages={**_messages("Email", 254), "invalid": "Invalid email format"},
    )

    class Meta:
        model = Patient
        fields = EDITABLE_FIELDS


class PatientSerializer(serializers.ModelSerializer):
    """A patient as the API shows it."""

    class Meta:
        model = Patient
        fields = ["id", *EDITABLE_FIELDS, "created_at", "updated_at"]
        read_only_fields = fields


class PatientListQuerySerializer(serializers.Serializer):
    """Query parameters of GET /patients (the cursor and limit belong to the paginator)."""

    search = serializers.CharField(required=False, allow_blank=True, max_length=200)
    count = serializers.BooleanField(required=False, default=False)
