"""The session login forms (the admin's and the browsable API's) under the login rate limit.

The limit is checked in the form, before the password is, so a throttled login gets the
login page again with the reason on it, and the password is never tried.
"""

from django.contrib.admin.forms import AdminAuthenticationForm
from django.contrib.auth.forms import AuthenticationForm
from django.core.exceptions import ValidationError

from api.throttling import login_wait

THROTTLED = "throttled"


class ThrottledLoginMixin:
    def clean(self):
        wait = login_wait(self.request)
        if wait is not None:
            self.retry_after = wait
            raise ValidationError(
                "Too many login attempts from your address. Try again in %(wait)s seconds.",
                code=THROTTLED,
                params={"wait": wait},
            )
        return super().clean()


class ThrottledAuthenticationForm(ThrottledLoginMixin, AuthenticationForm):
    """The browsable API's login form."""


class ThrottledAdminAuthenticationForm(ThrottledLoginMixin, AdminAuthenticationForm):
    """The admin's login form (staff only)."""
