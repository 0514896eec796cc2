"""The kick-off's parameters, as the Bulk Data specification spells them. The OpenAPI document
(exports.schema) declares the same patterns and values, so what it calls valid is accepted
and what it calls invalid gets a 400."""

import calendar
import re
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from api.exceptions import ApplicationError
from fhir_r4.exceptions import FhirError

# RFC 7240: respond-async among the preferences (a client may add handling=lenient).
PREFER_PATTERN = r"^(.*,)?\s*respond-async\s*(,.*)?$"
OUTPUT_FORMATS = ("application/fhir+ndjson", "application/ndjson", "ndjson")
TYPES = ("Patient",)
# `_type` is a comma-separated list of them (spaces around each allowed).
TYPE_PATTERN = r"^\s*Patient\s*(,\s*Patient\s*)*$"
# The kick-off's parameters this server acts on; `_format` is FHIR's content negotiation
# (fhir_r4's renderers read it). Any other is refused unless `Prefer: handling=lenient`.
PARAMETERS = ("_since", "_type", "_outputFormat", "_format")
# FHIR's `instant` (http://hl7.org/fhir/R4/datatypes.html#instant): to the second at least,
# always with a zone.
INSTANT_PATTERN = (
    r"^([0-9]([0-9]([0-9][1-9]|[1-9]0)|[1-9]00)|[1-9]000)-(0[1-9]|1[0-2])-"
    r"(0[1-9]|[1-2][0-9]|3[0-1])T([01][0-9]|2[0-3]):[0-5][0-9]:([0-5][0-9]|60)"
    r"(\.[0-9]{1,9})?(Z|(\+|-)((0[0-9]|1[0-3]):[0-5][0-9]|14:00))$"
)
_INSTANT = re.compile(INSTANT_PATTERN)
_PARTS = re.compile(r"^(\d{4})-(\d\d)-(\d\d)T(\d\d):(\d\d):(\d\d)(?:\.(\d+))?(Z|[+-]\d\d:\d\d)$")
_PREFER = re.compile(PREFER_PATTERN)


class InvalidExportRequest(ApplicationError):
    message = "Invalid export request"


@dataclass(frozen=True)
class KickoffParameters:
    since: datetime | None
    # Unsupported parameters ignored at the client's request (`handling=lenient`).
    ignored: tuple[str, ...] = ()


def parse_instant(text: str) -> datetime:
    """A FHIR instant as an aware datetime in UTC.

    What the pattern allows is accepted, so the OpenAPI document (which can state the
    pattern, not the calendar) holds: a day past the month's end counts as its last day, a
    leap second as the second before it, fractions past microseconds are dropped, and an
    instant beyond Python's years (0001-01-01T00:00:00+14:00) is clamped to them.
    """
    match = _PARTS.fullmatch(text) if _INSTANT.fullmatch(text) else None
    if match is None:
        raise InvalidExportRequest(
            f"_since {text[:40]!r} is not a FHIR instant, e.g. 2024-05-01T00:00:00Z"
        )
    year, month, day, hour, minute, second = (int(match.group(n)) for n in range(1, 7))
    day = min(day, calendar.monthrange(year, month)[1])
    microsecond = int((match.group(7) or "").ljust(6, "0")[:6])
    local = datetime(year, month, day, hour, minute, min(second, 59), microsecond)
    zone = match.group(8)
    offset = timedelta(0)
    if zone != "Z":
        sign = -1 if zone[0] == "-" else 1
        offset = sign * timedelta(hours=int(zone[1:3]), minutes=int(zone[4:6]))
    try:
        return (local - offset).replace(tzinfo=UTC)
    except OverflowError:
        return (datetime.min if offset > timedelta(0) else datetime.max).replace(tzinfo=UTC)


def _prefers_lenient(prefer: str) -> bool:
    return any(
        part.strip().replace(" ", "").lower() == "handling=lenient"
        for item in prefer.split(",")
        for part in item.split(";")
    )


def kickoff_parameters(*, prefer: str | None, query) -> KickoffParameters:
    """The kick-off's parameters, or a 400 naming the first problem. An unsupported
    parameter (`_typeFilter`, `_elements`, `patient`, ...) is refused, as the Bulk Data
    specification says, unless the client prefers `handling=lenient`: then it is ignored
    and named in `ignored`, so the answer can say so."""
    if prefer is None or not _PREFER.fullmatch(prefer):
        raise InvalidExportRequest("The export runs asynchronously: send Prefer: respond-async")
    unsupported = tuple(sorted(key for key in query if key not in PARAMETERS))
    if unsupported and not _prefers_lenient(prefer):
        names = ", ".join(key[:40] for key in unsupported[:5])
        raise FhirError(
            f"Parameter not supported: {names} (send Prefer: handling=lenient to ignore it)",
            code="not-supported",
        )
    output_format = query.get("_outputFormat")
    if output_format is not None and output_format not in OUTPUT_FORMATS:
        raise InvalidExportRequest(
            f"_outputFormat {output_format[:40]!r} is not supported: use {OUTPUT_FORMATS[0]}"
        )
    types = query.get("_type")
    # A comma-separated list of types (`Patient,Patient` is Patient).
    if types is not None and any(t.strip() not in TYPES for t in types.split(",")):
        raise InvalidExportRequest(f"_type {types[:40]!r} is not supported: only Patient is")
    since = query.get("_since")
    return KickoffParameters(
        since=parse_instant(since) if since is not None else None, ignored=unsupported
    )
