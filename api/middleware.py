"""Guards that answer hostile requests with a JSON 4xx before any view or database sees them."""

from urllib.parse import unquote

from django.conf import settings
from django.http import JsonResponse


class RequestGuardMiddleware:
    """413 for bodies over MAX_REQUEST_BODY_BYTES, 411 for a body of unstated length, 400 for a
    NUL character in the path, query or a header.

    DRF reads the body stream without Django's size limit, and reads a body without a
    Content-Length (chunked) as empty, so both are settled here; PostgreSQL rejects NUL in
    text with an exception, so it never gets that far.
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
        if not length and "chunked" in request.META.get("HTTP_TRANSFER_ENCODING", "").lower():
            return JsonResponse(
                {"error": "Length required: send the body with a Content-Length"}, status=411
            )
        query = unquote(request.META.get("QUERY_STRING", ""), errors="replace")
        if "\x00" in query or "\x00" in request.path:
            return JsonResponse({"error": "NUL characters are not allowed in URLs"}, status=400)
        if any("\x00" in value for key, value in request.META.items() if key.startswith("HTTP_")):
            return JsonResponse({"error": "NUL characters are not allowed in headers"}, status=400)
        return self.get_response(request)
