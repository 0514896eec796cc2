"""Guards that answer hostile requests with a JSON 4xx before any view or database sees them."""

from urllib.parse import unquote

from django.conf import settings
from django.http import JsonResponse


class RequestGuardMiddleware:
    """413 for bodies over MAX_REQUEST_BODY_BYTES; 400 for a NUL character in the path or query.

    DRF reads the body stream without Django's size limit, so the limit is enforced here; and
    PostgreSQL rejects NUL in text with an exception, so it never gets that far.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        length = request.META.get("CONTENT_LENGTH") or ""
        limit = settings.MAX_REQUEST_BODY_BYTES
        if length.isdigit() and int(length) > limit:
            return JsonResponse(
                {"error": f"Request body too large (limit {limit} bytes)"}, status=413
            )
        query = unquote(request.META.get("QUERY_STRING", ""), errors="replace")
        if "\x00" in query or "\x00" in request.path:
            return JsonResponse({"error": "NUL characters are not allowed in URLs"}, status=400)
        return self.get_response(request)
