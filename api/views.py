"""Project-level views: the API root and JSON answers for errors raised outside DRF."""

from django.http import JsonResponse
from drf_spectacular.utils import extend_schema
from rest_framework.decorators import api_view, permission_classes
from rest_framework.permissions import AllowAny
from rest_framework.response import Response
from rest_framework.reverse import reverse


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
        }
    )


def bad_request(request, exception=None):
    return JsonResponse({"error": "Bad request"}, status=400)


def permission_denied(request, exception=None):
    return JsonResponse({"message": "Forbidden"}, status=403)


def not_found(request, exception=None):
    return JsonResponse({"message": "Not found"}, status=404)


def server_error(request):
    return JsonResponse({"error": "Internal server error"}, status=500)
