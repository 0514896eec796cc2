"""The web server's front: an ASGI app that reads each request whole, under a deadline, on the
server's event loop, and only then runs the WSGI application in a thread.

A client that sends its headers or body slowly costs the event loop a waiting task, never a
thread, so a few dozen of them cannot starve everyone else (as they do sync workers). The web
server (granian, see scripts/devstack.py) cuts off slow headers itself; a body not received
within the deadline gets a JSON 408 and the connection is closed, and a process with more
requests waiting for a thread than it can take answers a JSON 503. Nothing here answers with an
HTML or plain-text page: every answer of its own is the API's JSON error shape.

It also writes the access log (the server's own is off): one line per request with its id,
method, path (never the query string, which can hold a patient's name), status and duration.
The id is the request's `X-Request-ID` if that is safe, else a new one; the application gets
the same one (api.middleware.RequestIdMiddleware), and the client gets it back.
"""

import asyncio
import io
import logging
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from urllib.parse import unquote_to_bytes

from api.errorshapes import error_body
from api.logging import request_id_from, request_id_var

# Method and path only: a query string can hold a patient's name.
logger = logging.getLogger(__name__)
access_logger = logging.getLogger("api.access")

_CLOSE = (b"connection", b"close")


class WSGIFront:
    """ASGI -> WSGI with the body read first: `WSGIFront(wsgi_app, threads=8, ...)`."""

    def __init__(
        self, wsgi_app, *, threads: int, body_timeout: float, max_body: int, max_waiting: int
    ):
        self.app = wsgi_app
        self.executor = ThreadPoolExecutor(max_workers=threads, thread_name_prefix="wsgi")
        self.body_timeout = body_timeout
        self.max_body = max_body
        # Requests read and waiting for a thread, past which the process is overloaded and
        # says so (503) rather than queue without end. Counted on the event loop's one thread.
        self.max_waiting = max_waiting
        self.waiting = 0

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            return  # no websockets or lifespan: granian runs this as `asginl`
        started = time.perf_counter()
        request_id = request_id_from(_header(scope, b"x-request-id"))
        log = {"extra": {"request_id": request_id}}
        status = 499  # nginx's "client closed request": no answer was sent

        async def send_with_id(message):
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                headers = message.get("headers", [])
                if not any(name.lower() == b"x-request-id" for name, _ in headers):
                    headers = [*headers, (b"x-request-id", request_id.encode())]
                message = {**message, "headers": headers}
            await send(message)

        try:
            await self._serve(scope, receive, send_with_id, request_id, log)
        finally:
            access_logger.info(
                '%s "%s %s" %d %.1fms',
                (scope.get("client") or ("-",))[0],
                scope["method"],
                scope["path"],
                status,
                (time.perf_counter() - started) * 1000,
                **log,
            )

    async def _serve(self, scope, receive, send, request_id: str, log: dict):
        environ, length, chunked = _environ(scope)
        # The same id for the application, whatever (unsafe) one the request came with.
        environ["HTTP_X_REQUEST_ID"] = request_id
        if length is not None and not length.isdigit():
            return await _error(send, scope, 400, "Invalid Content-Length header")
        if length is not None and int(length) > self.max_body:
            return await _error(send, scope, 413, self._too_large())
        body = b""
        if chunked or (length or "0") != "0":
            try:
                body = await self._read_body(receive)
            except TimeoutError:
                logger.info(
                    "%s %s: body not received in time", scope["method"], scope["path"], **log
                )
                return await _error(send, scope, 408, "Request body not received in time")
            except _TooLarge:
                return await _error(send, scope, 413, self._too_large())
            except _Disconnected:
                return
        environ["wsgi.input"] = io.BytesIO(body)
        environ["CONTENT_LENGTH"] = str(len(body))

        if self.waiting >= self.max_waiting:
            logger.warning("%s %s: overloaded, answered 503", scope["method"], scope["path"], **log)
            return await _error(send, scope, 503, "Server busy, try again shortly", retry_after=1)
        loop = asyncio.get_running_loop()
        self.waiting += 1
        try:
            status, headers, body, rest = await loop.run_in_executor(
                self.executor, _with_request_id, request_id, self._call_app, environ
            )
        except Exception:
            # Django answers its own errors; this is the WSGI call itself failing.
            logger.exception("%s %s: the application raised", scope["method"], scope["path"], **log)
            return await _error(send, scope, 500, "Internal server error")
        finally:
            self.waiting -= 1
        await send({"type": "http.response.start", "status": status, "headers": headers})
        if rest is None:
            await send({"type": "http.response.body", "body": body})
            return
        try:  # a streamed response (a static file): pulled in blocks, in the thread pool
            while body:
                await send({"type": "http.response.body", "body": body, "more_body": True})
                body = await loop.run_in_executor(
                    self.executor, _with_request_id, request_id, _next_block, rest
                )
            await send({"type": "http.response.body", "body": b""})
        finally:
            await loop.run_in_executor(self.executor, _with_request_id, request_id, rest.close)

    async def _read_body(self, receive) -> bytes:
        parts, size = [], 0
        async with asyncio.timeout(self.body_timeout):
            while True:
                message = await receive()
                if message["type"] == "http.disconnect":
                    raise _Disconnected()
                chunk = message.get("body", b"")
                size += len(chunk)
                if size > self.max_body:
                    raise _TooLarge()
                parts.append(chunk)
                if not message.get("more_body", False):
                    return b"".join(parts)

    def _too_large(self) -> str:
        return f"Request body too large (limit {self.max_body} bytes)"

    def _call_app(self, environ):
        started = {}

        def start_response(status, headers, exc_info=None):
            started["status"] = int(status.split(" ", 1)[0])
            started["headers"] = [
                (name.lower().encode("latin-1"), value.encode("latin-1")) for name, value in headers
            ]
            return _no_write

        result = self.app(environ, start_response)
        if not getattr(result, "streaming", False):
            # The whole answer, and its close() (Django's request_finished: the database
            # connection's end of request), in the thread that ran the request.
            try:
                body = b"".join(result)
            finally:
                if hasattr(result, "close"):
                    result.close()
            return started["status"], started["headers"], body, None
        rest = _Closing(iter(result), result)
        # An app may call start_response only with its first chunk.
        return started["status"], started["headers"], _next_block(rest), rest


def _with_request_id(request_id: str, function, *args):
    """Call the function with the request's id in this thread's logging context: the lines
    logged outside the application's middleware (Django logs a 4xx after it has answered, a
    response's close() ends the request) carry it too."""
    token = request_id_var.set(request_id)
    try:
        return function(*args)
    finally:
        request_id_var.reset(token)


class _TooLarge(Exception):
    pass


class _Disconnected(Exception):
    pass


class _Closing:
    """An app's response iterator that keeps the response's close() (WSGI's contract)."""

    def __init__(self, iterator, result):
        self.iterator = iterator
        self.result = result

    def __next__(self):
        return next(self.iterator)

    def close(self):
        if hasattr(self.result, "close"):
            self.result.close()


# Django streams a file 8 KB at a time; a hop to the thread pool for each would cost more.
_BLOCK = 256 * 1024


def _next_block(rest: _Closing) -> bytes:
    """The next chunks of a streamed response, up to _BLOCK bytes (b"" at the end)."""
    parts, size = [], 0
    for chunk in rest.iterator:
        parts.append(chunk)
        size += len(chunk)
        if size >= _BLOCK:
            break
    return b"".join(parts)


def _no_write(data):
    raise NotImplementedError("write() is not supported: return the body instead")


def _header(scope, name: bytes) -> str | None:
    for raw_name, raw_value in scope["headers"]:
        if raw_name.lower() == name:
            return raw_value.decode("latin-1")
    return None


def _environ(scope) -> tuple[dict, str | None, bool]:
    """The WSGI environ of an ASGI HTTP scope (PEP 3333: headers as latin-1 text), with the
    request's Content-Length and whether its body is chunked."""
    server = scope.get("server") or ("127.0.0.1", 80)
    client = scope.get("client") or ("", 0)
    raw_path = scope.get("raw_path") or scope["path"].encode()
    environ = {
        "REQUEST_METHOD": scope["method"],
        "SCRIPT_NAME": scope.get("root_path", ""),
        "PATH_INFO": unquote_to_bytes(raw_path.split(b"?", 1)[0]).decode("latin-1"),
        "QUERY_STRING": scope.get("query_string", b"").decode("latin-1"),
        "SERVER_NAME": str(server[0]),
        "SERVER_PORT": str(server[1]),
        "REMOTE_ADDR": client[0],
        "SERVER_PROTOCOL": f"HTTP/{scope.get('http_version', '1.1')}",
        "wsgi.version": (1, 0),
        "wsgi.url_scheme": scope.get("scheme", "http"),
        "wsgi.errors": sys.stderr,
        "wsgi.multithread": True,
        "wsgi.multiprocess": True,
        "wsgi.run_once": False,
    }
    length, chunked = None, False
    for raw_name, raw_value in scope["headers"]:
        name, value = raw_name.decode("latin-1").lower(), raw_value.decode("latin-1")
        if "_" in name:
            # "X_Forwarded_For" would become HTTP_X_FORWARDED_FOR too, beside the proxy's
            # real header: a client could forge its address (and dodge the login limit).
            # Dropped, as Django's runserver and nginx do.
            continue
        if name == "content-length":
            length = value.strip()
        elif name == "transfer-encoding":
            # The body is read whole here, so the application sees a plain Content-Length.
            chunked = "chunked" in value.lower()
        elif name == "content-type":
            environ["CONTENT_TYPE"] = value
        else:
            key = "HTTP_" + name.upper().replace("-", "_")
            if key in environ:
                value = environ[key] + ("; " if key == "HTTP_COOKIE" else ",") + value
            environ[key] = value
    environ.setdefault("HTTP_HOST", f"{server[0]}:{server[1]}")
    return environ, length, chunked


async def _error(send, scope, status: int, message: str, retry_after: int | None = None):
    # In the shape of the path's face: the API's JSON, or FHIR's OperationOutcome (api.errorshapes).
    media_type, body = error_body(scope["path"], status, message)
    headers = [
        (b"content-type", media_type.encode()),
        (b"content-length", str(len(body)).encode()),
        _CLOSE,
    ]
    if retry_after is not None:
        headers.append((b"retry-after", str(retry_after).encode()))
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body})
