"""URLs of the patients API and the token endpoints, each with or without a trailing slash."""

from django.urls import re_path
from rest_framework.routers import SimpleRouter

from patients import views

router = SimpleRouter()
router.trailing_slash = "/?"  # the constructor only knows "/" or ""; the regex takes either
router.register("patients", views.PatientViewSet, basename="patient")

urlpatterns = [
    re_path(r"^auth/login/?$", views.LoginView.as_view(), name="auth-login"),
    re_path(r"^auth/logout/?$", views.LogoutView.as_view(), name="auth-logout"),
    re_path(r"^auth/logoutall/?$", views.LogoutAllView.as_view(), name="auth-logoutall"),
    *router.urls,
]
