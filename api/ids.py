"""Ids as they arrive in URLs: anything may be typed there."""

import uuid


def uuid_or_none(value) -> uuid.UUID | None:
    """The UUID a value spells, or None for anything else (an unknown id is then a 404, never a
    500)."""
    try:
        return uuid.UUID(str(value))
    except (TypeError, ValueError, AttributeError):
        return None
