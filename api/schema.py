"""OpenAPI (drf-spectacular): the error bodies and headers the whole API shares, and the hooks
that put on every operation the statuses no view answers itself.

A view declares what it answers (its 200, a 404 for an unknown id, a 409); `shared_responses`
adds what the layers around every view can answer: the web server's front and the request
guard (400, 408, 411, 413, 503), DRF's authentication, permissions, content negotiation,
parsers and rate limits (401, 403, 406, 415, 429), each only where the view's configuration
makes it possible, and the `X-Request-ID` and `Cache-Control` headers of every answer.
"""

from drf_spectacular.utils import OpenApiParameter, OpenApiResponse
from rest_framework.authentication import SessionAuthentication
from rest_framework.negotiation import DefaultContentNegotiation
from rest_framework.permissions import AllowAny, IsAuthenticated

from api.errorshapes import error_content

JSON = "application/json"
# Patterns are read by schemathesis with two engines, Python's `re` to generate and a Rust one
# to validate, which disagree on `\d`, `\w` and `\s` outside ASCII (as ECMAScript does with
# Python): so they spell characters out. WHITESPACE is what DRF trims from text (str.strip).
WHITESPACE = r"\t\n\x0b\x0c\r\x1c-\x1f \x85\xa0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000"
# Every string the API reads refuses a NUL character (DRF in bodies, api.middleware in the
# URL and headers).
NO_NUL = r"^[^\x00]*$"


def trimmed_text(max_length: int, *, blank: bool) -> str:
    """A pattern for DRF text that is trimmed before its length is checked: at most
    `max_length` characters once trimmed, no NUL, and (unless `blank`) not only whitespace."""
    body = rf"[^\x00{WHITESPACE}](?:[^\x00]{{0,{max_length - 2}}}[^\x00{WHITESPACE}])?"
    if blank:
        body = f"(?:{body})?"
    return rf"^[{WHITESPACE}]*{body}[{WHITESPACE}]*$"


def ref(name: str) -> dict:
    return {"$ref": f"#/components/schemas/{name}"}


def _object(description: str, **properties: dict) -> dict:
    return {
        "type": "object",
        "description": description,
        "properties": properties,
        "required": list(properties),
    }


_TEXT = {"type": "string"}

# The error bodies (api.exceptions): "error" for bad input and refusals, "message" for 401,
# 403 and 404, as the original API answered.
SCHEMAS = {
    "Error": _object('A refusal: what went wrong in "error".', error=_TEXT),
    "Message": _object(
        'Authentication, permission and lookup errors: "message", as the original API said.',
        message=_TEXT,
    ),
    "BadRequest": {
        "type": "object",
        "description": 'Bad input. "error" names the first problem (a missing field first); '
        'when a body or query failed validation, "errors" has every field\'s messages.',
        "properties": {
            "error": _TEXT,
            "errors": {
                "type": "object",
                "additionalProperties": {"type": "array", "items": _TEXT},
                "example": {"phone": ["Phone is required."]},
            },
        },
        "required": ["error"],
    },
    "TooManyRequests": {
        "type": "object",
        "description": "Over a rate limit, or a client address locked out after failed logins.",
        "properties": {
            "message": {"type": "string", "enum": ["Too many requests"]},
            "error": _TEXT,
        },
        "required": ["message", "error"],
    },
}
# Response headers, as components: every operation refers to them.
HEADERS = {
    "X-Request-ID": {
        "description": "The id the service logged the request under: the request's own "
        "`X-Request-ID` when it is 1 to 64 letters, digits, `.`, `_` or `-`, else a new one.",
        "required": True,
        "schema": {"type": "string", "pattern": r"^[A-Za-z0-9._-]{1,64}$"},
    },
    "Cache-Control": {
        "description": "No answer may be cached: they carry patient data and tokens.",
        "required": True,
        "schema": {"type": "string", "enum": ["no-store"]},
    },
    "Retry-After": {
        "description": "Seconds to wait before trying again.",
        "schema": {"type": "integer", "minimum": 0},
    },
    "WWW-Authenticate": {
        "description": "`Bearer`: how to authenticate.",
        "schema": {"type": "string"},
    },
}


def _header_refs(*names: str) -> dict:
    return {name: {"$ref": f"#/components/headers/{name}"} for name in names}


def _response(schema: str, description: str, *headers: str) -> dict:
    response = {"description": description, "content": {JSON: {"schema": ref(schema)}}}
    if headers:
        response["headers"] = _header_refs(*headers)
    return response


# For views' @extend_schema: a documented refusal with one of the shared bodies.
def error_response(description: str, key: str = "error") -> OpenApiResponse:
    """A documented refusal whose body is `{key: "<text>"}`: the shared `Error` or `Message`."""
    return OpenApiResponse(ref("Message" if key == "message" else "Error"), description=description)


BAD_REQUEST = OpenApiResponse(
    ref("BadRequest"), description="A field or parameter failed validation (see `errors`)."
)
UNAUTHORIZED = OpenApiResponse(
    ref("Message"), description="No valid token: missing, unknown, expired or revoked."
)
FORBIDDEN = OpenApiResponse(ref("Message"), description="The user lacks the permission.")
ACCESS_ERRORS = {401: UNAUTHORIZED, 403: FORBIDDEN}


def response_header(name: str, schema: dict, statuses, description: str, *, required=True):
    """A header the named statuses of an operation answer with (for @extend_schema's
    `parameters`)."""
    return OpenApiParameter(
        name,
        schema,
        OpenApiParameter.HEADER,
        required=required,
        description=description,
        response=list(statuses),
    )


def query_parameter(name: str, schema, description: str, **kwargs) -> OpenApiParameter:
    """An optional query parameter whose empty value (`?since=`) counts as absent, as DRF
    reads it; the document says so with `allowEmptyValue` (added by `shared_responses`)."""
    return OpenApiParameter(
        name, schema, description=description, extensions={"x-empty-is-absent": True}, **kwargs
    )


# The cursor pagination's (api.pagination) parameters and header.
LIMIT = query_parameter(
    "limit",
    {"type": "string", "pattern": NO_NUL},
    "Page size: a positive integer, 50 by default and at most 500 (larger is 500); any other "
    "value is ignored.",
)
CURSOR = query_parameter(
    "cursor",
    {"type": "string", "pattern": NO_NUL},
    'A position, from a `Link` header\'s URL: opaque. Any other value is 400 "Invalid cursor".',
)
PAGE_PARAMETERS = [LIMIT, CURSOR]
LINK = response_header(
    "Link",
    {"type": "string"},
    [200],
    'The other pages: `<url>; rel="next"`, `<url>; rel="prev"`; absent on a single page.',
    required=False,
)


def paths_without_trailing_slash(result, generator, request, public):
    """Show paths as the original's clients call them (`/patients/{id}`); both forms work."""
    result["paths"] = {
        _without_slash(path): operations for path, operations in result["paths"].items()
    }
    return result


def _without_slash(path: str) -> str:
    return path.rstrip("/") or "/"


def shared_responses(result, generator, request, public):
    """Add to every operation the statuses and headers that the layers around its view can
    answer (see the module's docstring), where the view did not declare them itself."""
    components = result.setdefault("components", {})
    for name, schema in SCHEMAS.items():
        components.setdefault("schemas", {}).setdefault(name, schema)
    for name, header in HEADERS.items():
        components.setdefault("headers", {}).setdefault(name, header)
    views = _view_classes(generator)
    for path, operations in result["paths"].items():
        for method, operation in operations.items():
            view = views.get((path, method))
            responses = operation.setdefault("responses", {})
            own_shape = error_content(path)
            for status, response in _framework_responses(operation, view).items():
                if own_shape is not None:
                    # Under a path with an error shape of its own (api.errorshapes), the front
                    # and the framework answer in that shape.
                    media_type, schema = own_shape
                    content = {media_type: {"schema": schema}}
                    response = {**response, "content": content}
                    declared = responses.setdefault(status, response)
                    declared.setdefault("content", {}).setdefault(media_type, content[media_type])
                    continue
                declared = responses.setdefault(status, response)
                if status in FRONT_STATUSES:
                    # The front answers these in JSON whatever the view's own media type.
                    declared.setdefault("content", {}).setdefault(JSON, response["content"][JSON])
            for response in responses.values():
                response.setdefault("headers", {}).update(
                    _header_refs("X-Request-ID", "Cache-Control")
                )
            operation["responses"] = dict(sorted(responses.items()))
            for parameter in operation.get("parameters", []):
                if parameter.pop("x-empty-is-absent", False):
                    parameter["allowEmptyValue"] = True
    return result


def _view_classes(generator) -> dict:
    """Each operation's view class (and its action's overrides), as drf-spectacular found
    them, by the path and method the document shows."""
    views = {}
    for path, _regex, method, callback in generator.endpoints or ():
        cls = callback.cls
        path = _without_slash(generator.coerce_path(path, method, cls))
        views[path, method.lower()] = (cls, getattr(callback, "initkwargs", {}) or {})
    return views


def _setting(view, name: str):
    cls, initkwargs = view
    return initkwargs.get(name, getattr(cls, name))


def _can_forbid(view) -> bool:
    """Whether DRF can answer 403: a permission beyond being logged in, or a session login
    (whose unsafe requests need the CSRF token)."""
    permissions = _setting(view, "permission_classes")
    authentications = _setting(view, "authentication_classes")
    return any(not issubclass(cls, (AllowAny, IsAuthenticated)) for cls in permissions) or any(
        issubclass(cls, SessionAuthentication) for cls in authentications
    )


# What the web server's front and the request guard answer, before any view: in JSON, on every
# path.
FRONT_STATUSES = {"400", "408", "411", "413", "503"}


def _framework_responses(operation: dict, view) -> dict:
    responses = {
        "400": _response(
            "BadRequest",
            "Bad input: a field or parameter that failed validation (each field's messages "
            "in `errors`), malformed JSON, an invalid `Content-Length`, or a NUL character "
            "in the URL or a header.",
        ),
        "408": _response(
            "Error",
            "A body that did not arrive within the server's time limit; the connection is closed.",
        ),
        "411": _response("Error", "A chunked body without a `Content-Length`."),
        "413": _response("Error", "A body over the size limit (1 MiB by default)."),
        "503": _response(
            "Error", "The web process is overloaded: try again shortly.", "Retry-After"
        ),
    }
    if view is None:  # not a DRF view drf-spectacular could name: the front's statuses only
        return responses
    if _setting(view, "authentication_classes"):
        responses["401"] = _response(
            "Message",
            "No valid token: missing, unknown, expired or revoked.",
            "WWW-Authenticate",
        )
    if _can_forbid(view):
        responses["403"] = _response("Message", "The user lacks the permission.")
    if issubclass(_setting(view, "content_negotiation_class"), DefaultContentNegotiation):
        responses["406"] = _response(
            "Error", "The `Accept` header names no type this operation answers with."
        )
    if "requestBody" in operation and _setting(view, "parser_classes"):
        responses["415"] = _response("Error", "A `Content-Type` this operation does not read.")
    if _setting(view, "throttle_classes"):
        responses["429"] = _response(
            "TooManyRequests",
            "Over the rate limit: per user with a token, per client address without one.",
            "Retry-After",
        )
    return responses
