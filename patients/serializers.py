"""Shapes of patient data in and out of the API. Validation only; writes are in services."""

from rest_framework import serializers

from patients.models import Channel, Patient
from patients.validators import normalize_phone, validate_phone
from telehealth.serializers import ObjectInputSerializer, StrictCharField, StrictEmailField


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


class PatientInputSerializer(ObjectInputSerializer):
    """The body of POST, PUT and PATCH. Fields are declared in the original's order of checks
    (name, phone, email): the first missing one is named in `"error"`."""

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
    preferred_channel = serializers.ChoiceField(
        choices=Channel.choices,
        required=False,
        help_text="Where notices go: sms (the default) or email.",
    )
    sms_opt_out = serializers.BooleanField(required=False, help_text="Send no SMS.")
    email_opt_out = serializers.BooleanField(required=False, help_text="Send no email.")


class PatientSerializer(serializers.ModelSerializer):
    """A patient as the API shows it."""

    class Meta:
        model = Patient
        fields = [
            "id",
            "name",
            "email",
            "phone",
            "preferred_channel",
            "sms_opt_out",
            "email_opt_out",
            "created_at",
            "updated_at",
        ]
        read_only_fields = fields


class PatientListQuerySerializer(serializers.Serializer):
    """Query parameters of GET /patients (the cursor and limit belong to the paginator)."""

    search = serializers.CharField(required=False, allow_blank=True, max_length=200)
    count = serializers.BooleanField(required=False, default=False)
