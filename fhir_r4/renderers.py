"""FHIR's JSON media type in and out: `application/fhir+json`, with plain `application/json`
(and R2's `application/json+fhir`, which older clients still send) taken as the same thing,
as FHIR's HTTP page allows (http://hl7.org/fhir/R4/http.html#mime-type)."""

from rest_framework.exceptions import NotAcceptable
from rest_framework.negotiation import DefaultContentNegotiation
from rest_framework.renderers import JSONRenderer
from rest_framework.utils.mediatypes import media_type_matches

from api.parsers import JSONParser

FHIR_JSON = "application/fhir+json"
# What a client may name instead of FHIR_JSON, in Accept, Content-Type or `_format`.
JSON_ALIASES = ("application/json", "application/json+fhir", "text/json")
_FORMAT_VALUES = frozenset({"json", FHIR_JSON, *JSON_ALIASES})


class FhirJSONRenderer(JSONRenderer):
    """JSON, labelled `application/fhir+json` whatever JSON type the client asked for."""

    media_type = FHIR_JSON
    format = "json"
    # The body is UTF-8 JSON; no `charset` parameter (as JSONRenderer), so the Content-Type
    # is exactly the documented one.
    charset = None


class FhirJSONParser(JSONParser):
    """The project's JSON parser (a 400 for bodies nested too deeply) for FHIR's JSON and the
    aliases; FhirContentNegotiation reads `media_types`."""

    media_type = FHIR_JSON
    media_types = (FHIR_JSON, *JSON_ALIASES)


def _aliased(media_range: str) -> str:
    """A media range with a JSON alias put as FHIR_JSON, its parameters (q, fhirVersion)
    kept."""
    kind, sep, params = media_range.partition(";")
    if kind.strip().lower() in JSON_ALIASES:
        return FHIR_JSON + sep + params
    return media_range


class _NoFormatOverride:
    # DRF's `?format=` is not FHIR's; FHIR's `_format` is read below.
    URL_FORMAT_OVERRIDE = None


class FhirContentNegotiation(DefaultContentNegotiation):
    """DRF's negotiation with FHIR's names: `_format` (json, or a JSON media type) in place
    of DRF's `format`, the JSON aliases in Accept, and a parser that lists several media
    types in `media_types`."""

    settings = _NoFormatOverride()

    def select_renderer(self, request, renderers, format_suffix=None):
        requested = request.query_params.get("_format")
        if requested is not None:
            if requested.strip().lower() not in _FORMAT_VALUES:
                raise NotAcceptable("This _format is not supported: use json")
            return renderers[0], renderers[0].media_type
        return super().select_renderer(request, renderers, format_suffix)

    def get_accept_list(self, request):
        return [_aliased(media_range) for media_range in super().get_accept_list(request)]

    def select_parser(self, request, parsers):
        for parser in parsers:
            for media_type in getattr(parser, "media_types", (parser.media_type,)):
                if media_type_matches(media_type, request.content_type):
                    return parser
        return None
