"""Shapes of the access audit in and out of the API."""

import re
from datetime import UTC

from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from audit.models import AccessRecord

# A `+` in a query string is a space once decoded: `since=...T09:00:00+02:00` typed unencoded
# arrives as `...T09:00:00 02:00`. The offset is given its sign back.
_OFFSET_WITHOUT_PLUS = re.compile(r"(T[\d:.]+) (\d{2}(?::?\d{2})?)$")


class SinceField(serializers.DateTimeField):
    def to_internal_value(self, value):
        if isinstance(value, str):
            value = _OFFSET_WITHOUT_PLUS.sub(r"\1+\2", value.strip())
        parsed = super().to_internal_value(value)
        try:
            parsed.astimezone(UTC)  # what the query compares; 9999-12-31 at -14:00 overflows
        except OverflowError:
            self.fail("invalid", format="ISO 8601")
        return parsed


class AccessRecordQuerySerializer(serializers.Serializer):
    """Query parameters of GET /audit (the cursor and limit belong to the paginator)."""

    patient = serializers.UUIDField(required=False)
    user = serializers.CharField(required=False, max_length=150)
    since = SinceField(required=False)


class AccessRecordSerializer(serializers.ModelSerializer):
    user = serializers.SerializerMethodField()
    token = serializers.SerializerMethodField()
    patient_ids = serializers.SerializerMethodField()

    class Meta:
        model = AccessRecord
        fields = [
            "id",
            "at",
            "user",
            "token",
            "via",
            "action",
            "patient_ids",
            "status",
            "client_ip",
            "path",
        ]

    @extend_schema_field(serializers.CharField(allow_null=True))
    def get_user(self, record: AccessRecord) -> str | None:
        """The username the user had then; null for a request by no one logged in."""
        return record.username or None

    @extend_schema_field(serializers.CharField(allow_null=True))
    def get_token(self, record: AccessRecord) -> str | None:
        """The first 12 characters of the token's stored digest; null without a token."""
        return record.token or None

    @extend_schema_field(serializers.ListField(child=serializers.UUIDField()))
    def get_patient_ids(self, record: AccessRecord) -> list[str]:
        return [str(patient.patient_id) for patient in record.patients.all()]
