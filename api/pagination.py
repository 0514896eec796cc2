"""Cursor pagination under a bare JSON array, as the original's clients expect a list."""

from datetime import UTC

from django.utils.dateparse import parse_datetime
from rest_framework.exceptions import NotFound, ParseError
from rest_framework.pagination import CursorPagination
from rest_framework.response import Response
from rest_framework.utils.urls import remove_query_param


class LinkHeaderCursorPagination(CursorPagination):
    """DRF's cursor pagination with the page links in a `Link` header (RFC 8288).

    Cursor pages cost the same at any depth (no OFFSET), and a row added meanwhile never
    shifts a page, so a client walking `rel="next"` sees each patient once.
    """

    page_size = 50
    page_size_query_param = "limit"
    max_page_size = 500

    def decode_cursor(self, request):
        try:
            cursor = super().decode_cursor(request)
        except NotFound as exc:  # A malformed cursor is a bad request, not a missing page.
            raise ParseError("Invalid cursor") from exc
        # Cursors are not signed: a hand-made position must still be a timestamp with a zone.
        if cursor and cursor.position is not None:
            try:
                position = parse_datetime(cursor.position)
            except ValueError:
                position = None
            if position is None or position.tzinfo is None:
                raise ParseError("Invalid cursor")
            try:
                position.astimezone(UTC)  # what the query does; 9999-12-31 at -14:00 overflows
            except OverflowError:
                raise ParseError("Invalid cursor") from None
        return cursor

    def get_ordering(self, request, queryset, view):
        # The view (or its action) names its own stable order, which must end in a unique
        # field so that no two rows share a position.
        return view.pagination_ordering

    def encode_cursor(self, cursor):
        # The total is asked for once; following pages should not count the table again.
        return remove_query_param(super().encode_cursor(cursor), "count")

    def get_paginated_response(self, data):
        links = [
            f'<{url}>; rel="{rel}"'
            for url, rel in ((self.get_next_link(), "next"), (self.get_previous_link(), "prev"))
            if url
        ]
        headers = {"Link": ", ".join(links)} if links else None
        return Response(data, headers=headers)

    def get_paginated_response_schema(self, schema):
        return schema
