"""Request metrics: each answer counted and timed by its route (the URL pattern that matched,
never the path), method and status. The probes, answered before the session is read."""

import functools
import re
import time

from django.conf import settings
from django.urls import Resolver404, resolve

from api import metrics

# What a route label is when no URL pattern matched (a 404 for an unknown path, an answer a
# middleware gave before routing: a redirect to HTTPS, a 413) or for a static file.
UNMATCHED = "<unmatched>"
STATIC = "<static>"
# Any other method (a client may send any token) would be a label value of the client's.
_METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})

_NAMED_GROUP = re.compile(r"\(\?P<(\w+)>")
_CONVERTER = re.compile(r"<(?:\w+:)?(\w+)>")
_ESCAPED = re.compile(r"\\(.)")


class RequestMetricsMiddleware:
    """First in MIDDLEWARE: it counts the answers the other middleware give too, and times
    everything the application does for a request."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        started = time.perf_counter()
        response = self.get_response(request)
        labels = {
            "route": route_label(request),
            "method": request.method if request.method in _METHODS else "other",
            "status": str(response.status_code),
        }
        metrics.HTTP_REQUESTS.labels(**labels).inc()
        metrics.HTTP_REQUEST_DURATION.labels(**labels).observe(time.perf_counter() - started)
        return response


# The probes' URL names (ops.urls): what a load balancer calls every few seconds.
_PROBES = frozenset({"healthz", "readyz"})


class ProbeMiddleware:
    """Above the session and authentication middleware: /healthz and /readyz go straight to
    their views. A session cookie sent with a probe would otherwise be read and, with
    SESSION_SAVE_EVERY_REQUEST, written: queries on the database liveness must not need."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        path = request.path_info
        if path.rstrip("/") in ("/healthz", "/readyz"):
            try:
                match = resolve(path)
            except Resolver404:
                match = None
            if match is not None and match.url_name in _PROBES:
                request.resolver_match = match  # the route label of its metrics
                response = match.func(request, *match.args, **match.kwargs)
                return response.render()  # what the handler does for a view's response
        return self.get_response(request)


def route_label(request) -> str:
    """The URL pattern the request matched, as a template: `patients/<pk>` for
    `^patients/(?P<pk>[^/.]+)/?$`, `admin/auth/user/<object_id>/change` for the admin's
    `<path:object_id>`. A fixed set of values, whatever the paths requested."""
    match = getattr(request, "resolver_match", None)
    if match is not None and match.route is not None:
        return _template(match.route)
    if request.path_info.startswith("/" + settings.STATIC_URL.lstrip("/")):
        return STATIC
    return UNMATCHED


@functools.lru_cache(maxsize=1024)
def _template(route: str) -> str:
    route = route.removeprefix("^")
    while "(?P<" in route:
        found = _NAMED_GROUP.search(route)
        end = _group_end(route, found.end())
        route = route[: found.start()] + f"<{found.group(1)}>" + route[end:]
    route = _CONVERTER.sub(r"<\1>", route)
    for anchor in ("\\Z", "$"):
        route = route.removesuffix(anchor)
    route = route.replace("^", "").replace("/?", "")
    route = _ESCAPED.sub(r"\1", route).strip("/")
    return route or "/"


def _group_end(pattern: str, start: int) -> int:
    """The index just past the `)` closing the group whose body begins at `start`."""
    depth, index, in_class = 1, start, False
    while index < len(pattern) and depth:
        char = pattern[index]
        if char == "\\":
            index += 2
            continue
        if in_class:
            in_class = char != "]"
        elif char == "[":
            in_class = True
        elif char == "(":
            depth += 1
        elif char == ")":
            depth -= 1
        index += 1
    return index
