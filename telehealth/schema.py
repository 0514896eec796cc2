"""OpenAPI schema hooks (drf-spectacular)."""


def paths_without_trailing_slash(result, generator, request, public):
    """Show paths as the original's clients call them (`/patients/{id}`); both forms work."""
    result["paths"] = {
        (path.rstrip("/") or "/"): operations for path, operations in result["paths"].items()
    }
    return result
