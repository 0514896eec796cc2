"""Typed readers for settings that come from the environment (healthchecks' envbool/envint)."""

import os
import re
from datetime import timedelta

from django.core.exceptions import ImproperlyConfigured
from django.utils.dateparse import parse_duration as parse_iso_duration

_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"0", "false", "no", "off", ""}
_DURATION = re.compile(r"^\s*(\d+)\s*([smhdw])\s*$", re.IGNORECASE)
_UNITS = {"s": "seconds", "m": "minutes", "h": "hours", "d": "days", "w": "weeks"}


def parse_duration(text: str) -> timedelta:
    """Parse "90d", "12h", "30m", "45s", "2w" or an ISO 8601 duration into a positive timedelta."""
    match = _DURATION.match(text)
    if match:
        value = timedelta(**{_UNITS[match.group(2).lower()]: int(match.group(1))})
    else:
        value = parse_iso_duration(text.strip())
    if value is None or value <= timedelta(0):
        raise ValueError(f"not a positive duration: {text!r} (examples: 90d, 12h, 30m)")
    return value


def env_str(name: str, default: str | None = None) -> str | None:
    """The variable's value, or the default when it is unset or empty."""
    value = os.environ.get(name, "")
    return value if value != "" else default


def env_bool(name: str, default: bool = False) -> bool:
    value = os.environ.get(name)
    if value is None:
        return default
    if value.strip().lower() in _TRUE:
        return True
    if value.strip().lower() in _FALSE:
        return False
    raise ImproperlyConfigured(f"{name} must be a boolean (1/0, true/false), not {value!r}")


def env_int(name: str, default: int) -> int:
    value = env_str(name)
    if value is None:
        return default
    try:
        return int(value)
    except ValueError:
        raise ImproperlyConfigured(f"{name} must be an integer, not {value!r}") from None


def env_float(name: str, default: float) -> float:
    value = env_str(name)
    if value is None:
        return default
    try:
        return float(value)
    except ValueError:
        raise ImproperlyConfigured(f"{name} must be a number, not {value!r}") from None


def env_list(name: str, default: list[str]) -> list[str]:
    value = env_str(name)
    if value is None:
        return default
    return [item.strip() for item in value.split(",") if item.strip()]


def env_duration(name: str, default: str) -> timedelta:
    value = env_str(name, default)
    try:
        return parse_duration(value)
    except ValueError as exc:
        raise ImproperlyConfigured(f"{name}: {exc}") from None
