"""URLs of the ops app, each with or without a trailing slash. /healthz and /readyz are also
exempt from the HTTPS redirect (SECURE_REDIRECT_EXEMPT): load balancers probe over HTTP."""

from django.urls import re_path

from ops import views

urlpatterns = [
    re_path(r"^healthz/?$", views.LivenessView.as_view(), name="healthz"),
    re_path(r"^readyz/?$", views.ReadinessView.as_view(), name="readyz"),
    re_path(r"^health/status/?$", views.HealthStatusView.as_view(), name="health-status"),
    re_path(r"^metrics/?$", views.MetricsView.as_view(), name="metrics"),
]
