"""The admin site: Django's, with the lockout's login form (and its second factor) and, with
ADMIN_REQUIRE_MFA, only for sessions an authenticator verified.

It is the default site (`admin.site`) through accounts.apps.ClinicAdminConfig in
INSTALLED_APPS, so every app's admin registers with it as usual.
"""

from django.conf import settings
from django.contrib import admin

from accounts.forms import LockoutAdminAuthenticationForm


class ClinicAdminSite(admin.AdminSite):
    login_form = LockoutAdminAuthenticationForm
    login_template = "accounts/admin_login.html"

    def has_permission(self, request) -> bool:
        """Staff, and with ADMIN_REQUIRE_MFA verified by an OTP device at login (django-otp's
        middleware says so); an unverified session is sent to the login page."""
        if not super().has_permission(request):
            return False
        return not settings.ADMIN_REQUIRE_MFA or request.user.is_verified()
