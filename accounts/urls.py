"""The token endpoints, each with or without a trailing slash."""

from django.urls import re_path

from accounts import views

urlpatterns = [
    re_path(r"^auth/login/?$", views.LoginView.as_view(), name="auth-login"),
    re_path(r"^auth/logout/?$", views.LogoutView.as_view(), name="auth-logout"),
    re_path(r"^auth/logoutall/?$", views.LogoutAllView.as_view(), name="auth-logoutall"),
]
