"""The export files' media type, and their negotiation: a file is NDJSON whatever the client
accepts, and the refusals are FHIR JSON."""

from rest_framework.negotiation import BaseContentNegotiation

NDJSON = "application/fhir+ndjson"


class FileContentNegotiation(BaseContentNegotiation):
    """No 406 for a download: its body is the stored NDJSON (a FileResponse, which no
    renderer touches), and its errors go out as the first renderer's, FHIR JSON."""

    def select_parser(self, request, parsers):
        return parsers[0] if parsers else None

    def select_renderer(self, request, renderers, format_suffix=None):
        return renderers[0], renderers[0].media_type
