"""Walking the API's cursor pages as a client does: by the `Link: <...>; rel="next"` header."""

from http import HTTPStatus


def walk_pages(client, url: str) -> list[list[dict]]:
    """Follow rel="next" links to the end; returns the pages."""
    pages = []
    while url:
        response = client.get(url)
        assert response.status_code == HTTPStatus.OK
        pages.append(response.json())
        url = None
        for link in response.get("Link", "").split(","):
            if 'rel="next"' in link:
                url = link.split(";")[0].strip().strip("<>")
    return pages
