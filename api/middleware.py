"""Guards that answer hostile requests with a JSON 4xx before any view or database sees them;
the request id every log line carries; no caching of what the API and the admin answer."""

from urllib.parse import unquote

from django.conf import settings
from django.http import HttpResponse

from api.errorshapes import error_body
from api.logging import request_id_from, request_id_var


class RequestIdMiddleware:
    """Gives each request an id: the `X-Request-ID` it came with (set by the web server's
    front, or a proxy) when that is a safe token, else a new one. It is in every log line
    written while the request is served, and in the response's `X-Request-ID`, so a client's
    report and the logs meet."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        request_id = request_id_from(request.META.get("HTTP_X_REQUEST_ID"))
        request.META["HTTP_X_REQUEST_ID"] = request_id
        # Kept until the request finishes (api.apps), not only while the middleware runs:
        # Django logs a 4xx or 5xx after the middleware has answered.
        request_id_var.set(request_id)
        response = self.get_response(request)
        response["X-Request-ID"] = request_id
        return response


class NoStoreMiddleware:
    """`Cache-Control: no-store` on every answer but the static files: the API's and the
    admin's pages carry patient data and tokens, which no browser or proxy may keep. One rule
    for all, so a new view cannot forget it."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        if not request.path.startswith("/" + settings.STATIC_URL.lstrip("/")):
            response["Cache-Control"] = "no-store"
            # For HTTP/1.0 caches, which know no Cache-Control.
            response["Pragma"] = "no-cache"
        return response


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
            return _error(request, 413, f"Request body too large (limit {limit} bytes)")
        if not length and "chunked" in request.META.get("HTTP_TRANSFER_ENCODING", "").lower():
            return _error(request, 411, "Length required: send the body with a Content-Length")
        query = unquote(request.META.get("QUERY_STRING", ""), errors="replace")
        if "\x00" in query or "\x00" in request.path:
            return _error(request, 400, "NUL characters are not allowed in URLs")
        if any("\x00" in value for key, value in request.META.items() if key.startswith("HTTP_")):
            return _error(request, 400, "NUL characters are not allowed in headers")
        return self.get_response(request)


def _error(request, status: int, message: str) -> HttpResponse:
    # The path may hold the NUL being refused; the shape only needs its prefix.
    media_type, body = error_body(request.path, status, message)
    return HttpResponse(body, status=status, content_type=media_type)
