"""Entity tags for optimistic concurrency: a record's version number as its ETag, and the
versions an `If-Match` header accepts (RFC 9110, section 13.1.1)."""

from django.utils.http import parse_etags

# `If-Match: *` matches any current version of a record that exists.
ANY = None


def etag(version: int) -> str:
    """The strong ETag of a version: `"3"`."""
    return f'"{version}"'


def if_match_versions(header: str | None) -> frozenset[int] | None:
    """The versions an `If-Match` header accepts: None when it is absent or `*` (no
    condition), else the set of versions named, strong `"3"` or weak `W/"3"` alike (FHIR
    clients send the weak form). A header naming no version, or garbage, matches nothing."""
    if header is None or header.strip() == "*":
        return ANY
    versions = set()
    # parse_etags keeps the W/ prefix off and the quotes on; anything unparsable is dropped.
    for tag in parse_etags(header):
        value = tag.removeprefix("W/").strip('"')
        # Strong comparison is of the characters: "01" is not the tag "1".
        if value.isascii() and value.isdigit() and len(value) <= 18 and value == str(int(value)):
            versions.add(int(value))
    return frozenset(versions)
