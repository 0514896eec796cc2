"""The ops endpoints' answers, as the OpenAPI document describes them (nothing is parsed)."""

from rest_framework import serializers


class LivenessSerializer(serializers.Serializer):
    status = serializers.ChoiceField(choices=["ok"])


class ReadinessSerializer(serializers.Serializer):
    status = serializers.ChoiceField(choices=["ok", "unavailable"])


class _CheckSerializer(serializers.Serializer):
    ok = serializers.BooleanField()
    error = serializers.CharField(
        required=False, help_text="Why it failed: an exception's type or a timeout, no more."
    )


class ConnectionCheckSerializer(_CheckSerializer):
    latency_ms = serializers.FloatField(
        required=False, help_text="How long the check took, when it succeeded."
    )


class WorkerCheckSerializer(_CheckSerializer):
    age_seconds = serializers.FloatField(
        required=False, allow_null=True, help_text="Since the latest heartbeat; null: never."
    )
    max_age_seconds = serializers.FloatField(required=False, help_text="HEALTH_WORKER_MAX_AGE.")
    workers = serializers.IntegerField(
        required=False, help_text="Workers with a heartbeat within max_age_seconds."
    )


class OutboxCheckSerializer(_CheckSerializer):
    oldest_undelivered_seconds = serializers.FloatField(
        required=False,
        allow_null=True,
        help_text="Age of the oldest notice not yet delivered; null: none is waiting.",
    )
    max_age_seconds = serializers.FloatField(required=False, help_text="HEALTH_OUTBOX_MAX_AGE.")
    undelivered = serializers.IntegerField(required=False, help_text="Notices pending or sending.")


class HealthChecksSerializer(serializers.Serializer):
    database = ConnectionCheckSerializer()
    broker = ConnectionCheckSerializer()
    worker = WorkerCheckSerializer()
    outbox = OutboxCheckSerializer()


class HealthStatusSerializer(serializers.Serializer):
    status = serializers.ChoiceField(choices=["ok", "failing"])
    checks = HealthChecksSerializer()
