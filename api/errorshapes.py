"""The body of an error answered before any view runs (the request guards in api.middleware,
the web server's front in api.serving): the API's `{"error": "..."}`, or, under a path prefix
an app registered, that app's shape (FHIR's OperationOutcome under /fhir/). An app above
registers its shape at start-up (`AppConfig.ready`), so `api` imports none of them."""

import json
from collections.abc import Callable

JSON = "application/json"

# (path prefix, media type, body of (status, message), the body's OpenAPI schema); the longest
# matching prefix wins.
_shapes: list[tuple[str, str, Callable[[int, str], dict], dict]] = []


def error_shape_register(
    *, prefix: str, media_type: str, body: Callable[[int, str], dict], schema: dict
) -> None:
    """Answer the errors of paths under `prefix` as `media_type`, with `body(status, message)`,
    which `schema` describes in the OpenAPI document."""
    _shapes.append((prefix, media_type, body, schema))
    _shapes.sort(key=lambda shape: len(shape[0]), reverse=True)


def error_body(path: str, status: int, message: str) -> tuple[str, bytes]:
    """The media type and the encoded body of an error for this path."""
    for prefix, media_type, body, _ in _shapes:
        if path.startswith(prefix):
            return media_type, json.dumps(body(status, message)).encode()
    return JSON, json.dumps({"error": message}).encode()


def error_content(path: str) -> tuple[str, dict] | None:
    """The media type and OpenAPI schema of the errors of a path with a shape of its own."""
    for prefix, media_type, _, schema in _shapes:
        if path.startswith(prefix):
            return media_type, schema
    return None
