"""`Idempotency-Key` for creating requests: a retry after a lost response gets the first
response again, not a second record (draft-ietf-httpapi-idempotency-key-header)."""

import hashlib
import json
import re
from collections.abc import Callable

from django.db import transaction
from rest_framework.response import Response

from api.exceptions import ApplicationError
from api.services import idempotency_key_claim, idempotency_key_complete

# Visible ASCII, as a header value that is safe to store and compare.
_KEY_SHAPE = re.compile(r"[\x21-\x7e]{1,255}")
# The response headers a replay repeats.
_REPLAYED_HEADERS = ("Location", "ETag")


class BadIdempotencyKey(ApplicationError):
    message = "Idempotency-Key must be 1 to 255 visible ASCII characters"


def request_fingerprint(data) -> str:
    """SHA-256 of parsed request data in a canonical form: the same JSON, whatever its key
    order or spacing, gives the same fingerprint."""
    if hasattr(data, "lists"):  # a form's QueryDict: every value of every key
        data = {key: values for key, values in data.lists()}
    canonical = json.dumps(data, sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(canonical.encode()).hexdigest()


def idempotent(request, *, scope: str, respond: Callable[[], Response]) -> Response:
    """Answer a creating request once per `Idempotency-Key` (per user): the first request
    runs `respond` and its successful response is stored in the same transaction as what it
    created; a repeat with the same body gets that response again (with
    `Idempotent-Replayed: true`), a repeat with another body a 422. A request that fails
    stores nothing, so the client can correct it and retry under the same key. Without the
    header, `respond` simply runs."""
    key = request.headers.get("Idempotency-Key")
    if key is None:
        return respond()
    if not _KEY_SHAPE.fullmatch(key):
        raise BadIdempotencyKey()
    fingerprint = request_fingerprint(request.data)
    with transaction.atomic():
        claim = idempotency_key_claim(
            user=request.user, key=key, scope=scope, fingerprint=fingerprint
        )
        if claim.status_code is not None:
            headers = {**claim.response_headers, "Idempotent-Replayed": "true"}
            body = json.loads(claim.response_body)  # in its stored key order
            return Response(body, status=claim.status_code, headers=headers)
        response = respond()
        if not 200 <= response.status_code < 300:
            transaction.set_rollback(True)
            return response
        idempotency_key_complete(
            claim=claim,
            status_code=response.status_code,
            body=response.data,
            headers={name: response[name] for name in _REPLAYED_HEADERS if name in response},
        )
        return response
