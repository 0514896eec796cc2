"""Top-level URLs: the API (every path with or without a trailing slash), the admin and the
browsable API's session login."""

from django.conf import settings
from django.contrib import admin
from django.urls import include, path, re_path
from drf_spectacular.views import (
    SpectacularAPIView,
    SpectacularRedocView,
    SpectacularSwaggerView,
)

from accounts.views import browsable_api_login, throttled_status
from api import views

admin.site.site_header = admin.site.site_title = settings.CLINIC_NAME
admin.site.index_title = "Patient records"

urlpatterns = [
    path("", views.api_root, name="api-root"),
    path("", include("accounts.urls")),
    path("", include("patients.urls")),
    path("", include("audit.urls")),
    path("", include("ops.urls")),
    # Bulk export's $export and status paths first: fhir_r4 would read `$export` as an id.
    path("fhir/", include("exports.urls")),
    path("fhir/", include("fhir_r4.urls")),
    # The session logins, ahead of the includes that also route them: under the API login's
    # rate limit, with a 429 when it refuses.
    path("admin/login/", throttled_status(admin.site.login)),
    path("api-auth/login/", browsable_api_login),
    path("admin/", admin.site.urls),
    path("api-auth/", include("rest_framework.urls")),
    re_path(r"^api/schema/?$", SpectacularAPIView.as_view(), name="schema"),
    re_path(r"^api/docs/?$", SpectacularSwaggerView.as_view(url_name="schema"), name="docs"),
    re_path(r"^api/redoc/?$", SpectacularRedocView.as_view(url_name="schema"), name="redoc"),
]

handler400 = "api.views.bad_request"
handler403 = "api.views.permission_denied"
handler404 = "api.views.not_found"
handler500 = "api.views.server_error"
