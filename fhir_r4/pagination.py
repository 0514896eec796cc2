"""Paging of searchset and history Bundles by the REST API's cursor."""

from api.pagination import LinkHeaderCursorPagination


class BundleCursorPagination(LinkHeaderCursorPagination):
    """The REST API's cursor pagination (same cursors, same stable orders, same page sizes:
    50 by default, at most 500), its size asked with FHIR's `_count`. The view gives the
    size it read (a POST search's is in its body, not the URL) and the URL its links build
    on: the parameters the search used (for a POST search, its saved id), not the request's
    URL."""

    page_size_query_param = "_count"

    def __init__(self, *, size: int | None = None):
        self.size = size

    def get_page_size(self, request):
        if self.size is None:
            return self.page_size
        return min(self.size, self.max_page_size)

    def links(self, base_url: str) -> dict[str, str]:
        """The page's `next` and `previous` links (those that exist), built on `base_url`."""
        self.base_url = base_url
        links = {"next": self.get_next_link(), "previous": self.get_previous_link()}
        return {relation: url for relation, url in links.items() if url}
