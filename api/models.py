"""What the API keeps for itself: the responses of requests made with an Idempotency-Key."""

from django.conf import settings
from django.db import models


class IdempotencyKey(models.Model):
    """A client's key for one creating request, and the response it got, so a retry of the
    same request gets the same response instead of a second record. Unique per user: the
    database, not a check-then-insert, decides which of two racing requests goes first."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE)
    key = models.CharField(max_length=255)
    # The operation (e.g. "POST /patients"), so one key cannot replay another endpoint's answer.
    scope = models.CharField(max_length=100)
    # SHA-256 of the parsed body in a canonical form: a repeat must send the same data.
    request_hash = models.CharField(max_length=64)
    # None until the request completes (its response is stored in the same transaction).
    status_code = models.PositiveSmallIntegerField(null=True)
    # The body as JSON text: a JSON column (PostgreSQL's jsonb) would reorder its keys.
    response_body = models.TextField(blank=True)
    response_headers = models.JSONField(default=dict)
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["user", "key"], name="idempotency_key_per_user")
        ]

    def __str__(self) -> str:
        return f"idempotency key {self.pk}"
