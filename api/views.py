"""Project-level views: the API root and JSON answers for errors raised outside DRF."""

from django.http import HttpResponse, JsonResponse
from drf_spectacular.utils import extend_schema
from rest_framework.decorators import api_view, permission_classes
from rest_framework.permissions import AllowAny
from rest_framework.response import Response
from rest_framework.reverse import reverse

from api.errorshapes import error_body, error_content


@extend_schema(exclude=True)
@api_view(["GET"])
@permission_classes([AllowAny])
def api_root(request):
    """Where things are: the resources, the login and the admin."""
    return Response(
        {
            "patients": reverse("patient-list", request=request),
            "login": reverse("auth-login", request=request),
            "admin": request.build_absolute_uri("/admin/"),
            "schema": reverse("schema", request=request),
            "docs": reverse("docs", request=request),
            "redoc": reverse("redoc", request=request),
        }
    )


def _error(request, status: int, key: str, message: str) -> HttpResponse:
    # Under a path with an error shape of its own (FHIR's), that shape (api.errorshapes).
    if error_content(request.path) is not None:
        media_type, body = error_body(request.path, status, message)
        return HttpResponse(body, status=status, content_type=media_type)
    return JsonResponse({key: message}, status=status)


def bad_request(request, exception=None):
    return _error(request, 400, "error", "Bad request")


def permission_denied(request, exception=None):
    return _error(request, 403, "message", "Forbidden")


def not_found(request, exception=None):
    return _error(request, 404, "message", "Not found")


def server_error(request):
    return _error(request, 500, "error", "Internal server error")
