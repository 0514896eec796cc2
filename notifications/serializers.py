"""Shapes of notifications in the API."""

from rest_framework import serializers

from notifications.models import Notification


class NotificationSerializer(serializers.ModelSerializer):
    """One notice sent (or not) to a patient, as GET /patients/<id>/notifications shows it."""

    class Meta:
        model = Notification
        fields = [
            "id",
            "channel",
            "kind",
            "recipient",
            "status",
            "attempts",
            "last_error",
            "created_at",
            "updated_at",
            "sent_at",
        ]
        read_only_fields = fields
