"""Writes the API makes for itself: Idempotency-Key records."""

import json
from datetime import timedelta

from django.contrib.auth.models import AbstractBaseUser
from django.db import IntegrityError, transaction
from django.utils import timezone

from api.exceptions import ApplicationError, ConflictError
from api.models import IdempotencyKey

# How long a key is remembered (as Stripe and the IETF draft suggest: a day of retries).
IDEMPOTENCY_KEY_LIFETIME = timedelta(hours=24)


class IdempotencyKeyReused(ApplicationError):
    status_code = 422
    message = "This Idempotency-Key was used with a different request body"


class IdempotencyKeyInProgress(ConflictError):
    message = "A request with this Idempotency-Key is in progress"


def idempotency_key_claim(
    *, user: AbstractBaseUser, key: str, scope: str, fingerprint: str
) -> IdempotencyKey:
    """Claim a key for a request, to be completed with idempotency_key_complete in the same
    transaction as the request's own writes: then, if the request fails, the claim is rolled
    back with them and the client may retry under the key.

    Returns the claim: a new one (status_code None) or, for a repeat of a completed request,
    the stored one to replay. A repeat of a request still running waits for it (the unique
    index holds the second insert until the first commits or rolls back). Raises
    IdempotencyKeyReused for a different body, and IdempotencyKeyInProgress if the first
    request's claim is seen before it completed.
    """
    if not transaction.get_connection().in_atomic_block:
        raise RuntimeError("claim an idempotency key inside the request's transaction")
    expired = timezone.now() - IDEMPOTENCY_KEY_LIFETIME
    IdempotencyKey.objects.filter(user=user, key=key, created_at__lt=expired).delete()
    try:
        with transaction.atomic():
            return IdempotencyKey.objects.create(
                user=user, key=key, scope=scope, request_hash=fingerprint
            )
    except IntegrityError:
        pass
    stored = IdempotencyKey.objects.get(user=user, key=key)
    if stored.scope != scope or stored.request_hash != fingerprint:
        raise IdempotencyKeyReused()
    if stored.status_code is None:
        raise IdempotencyKeyInProgress()
    return stored


def idempotency_key_complete(
    *, claim: IdempotencyKey, status_code: int, body, headers: dict[str, str]
) -> None:
    """Store the response a claimed request got (its JSON-ready body), for its repeats to
    replay."""
    claim.status_code = status_code
    claim.response_body = json.dumps(body)
    claim.response_headers = headers
    claim.save(update_fields=["status_code", "response_body", "response_headers"])


def idempotent_responses_forget(*, mentioning: str) -> int:
    """Forget the keys whose stored response mentions a value (a record's id), when what it
    showed must no longer be shown: a retry under such a key is then a new request. Returns
    how many went."""
    deleted, _ = IdempotencyKey.objects.filter(response_body__contains=mentioning).delete()
    return deleted


def idempotency_keys_expire() -> int:
    """Forget keys older than their lifetime. Returns how many went."""
    expired = timezone.now() - IDEMPOTENCY_KEY_LIFETIME
    deleted, _ = IdempotencyKey.objects.filter(created_at__lt=expired).delete()
    return deleted
