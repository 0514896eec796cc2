"""Durations as people write them ("90d", "12h") or as ISO 8601, for settings and commands."""

import re
from datetime import timedelta

from django.utils.dateparse import parse_duration as parse_iso_duration

_DURATION = re.compile(r"^\s*(\d+)\s*([smhdw])\s*$", re.IGNORECASE)
_UNITS = {"s": "seconds", "m": "minutes", "h": "hours", "d": "days", "w": "weeks"}
_LONGEST = timedelta(days=36500)


def parse_duration(text: str) -> timedelta:
    """Parse "90d", "12h", "30m", "45s", "2w" or an ISO 8601 duration into a positive timedelta."""
    match = _DURATION.match(text)
    try:
        if match:
            value = timedelta(**{_UNITS[match.group(2).lower()]: int(match.group(1))})
        else:
            value = parse_iso_duration(text.strip())
    except OverflowError:
        value = _LONGEST + _LONGEST  # past any limit: refused below
    if value is None or value <= timedelta(0):
        raise ValueError(f"not a positive duration: {text!r} (examples: 90d, 12h, 30m)")
    if value > _LONGEST:
        # Nothing here lasts a century, and a date that far ahead may not even be storable.
        raise ValueError(f"too long a duration: {text!r} (at most {_LONGEST.days}d)")
    return value
