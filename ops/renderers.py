"""Answers of the ops endpoints in one form whatever the client asks for."""

from rest_framework.negotiation import BaseContentNegotiation


class FirstRenderer(BaseContentNegotiation):
    """The view's first renderer, whatever the Accept header: a probe or a scraper that asks
    for another type (Prometheus asks for OpenMetrics first) gets the answer, not a 406."""

    def select_parser(self, request, parsers):
        return parsers[0] if parsers else None

    def select_renderer(self, request, renderers, format_suffix=None):
        return renderers[0], renderers[0].media_type
