"""Hostile requests and what every answer to one must be: a JSON 4xx with "error" or
"message", and no patient record changed."""

import base64
import json
from http import HTTPStatus

from patients.models import Patient

VALID = {"name": "Jane Doe", "email": "jane@example.com", "phone": "5551234567"}
ONE_MIB = 1024 * 1024


def body(**overrides) -> bytes:
    """A valid patient as JSON bytes, with some fields replaced."""
    return json.dumps({**VALID, **overrides}).encode()


def nested(depth: int) -> bytes:
    return b"[" * depth + b"]" * depth


def cursor(raw: str) -> str:
    """A cursor as DRF encodes one, around a hand-made (hostile) position."""
    return base64.b64encode(raw.encode()).decode()


def assert_json_error(response, status: HTTPStatus) -> dict:
    assert response.status_code == status, response.content[:300]
    assert response["Content-Type"].startswith("application/json")
    payload = response.json()
    assert isinstance(payload, dict)
    assert "error" in payload or "message" in payload
    return payload


def snapshot() -> list[dict]:
    """Every patient row, to show a request changed nothing."""
    return list(Patient.objects.order_by("pk").values())
