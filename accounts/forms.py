"""The session login forms (the admin's and the browsable API's) under the login lockout, with
the second factor.

The lockout counts the attempt in the form, before the password is checked, so a refused login
gets the login page again with the reason on it, and the password is never tried. A user with
a confirmed authenticator gives its code in the same form; the admin, with ADMIN_REQUIRE_MFA,
admits nobody without one.
"""

from django import forms
from django.conf import settings
from django.contrib.admin.forms import AdminAuthenticationForm
from django.contrib.auth.forms import AuthenticationForm
from django.core.exceptions import ValidationError

from accounts.services import (
    LoginLocked,
    LoginUnavailable,
    login_attempt_begin,
    login_attempt_failed,
    login_attempt_succeeded,
    login_attempt_withdrawn,
    otp_devices,
    otp_verify,
)
from api.clientip import client_ip

# The error code of a refusal by the lockout (or of a lockout that could not count).
LOCKED = "locked"


def _otp_token_field() -> forms.CharField:
    return forms.CharField(
        label="Authenticator code",
        required=False,
        max_length=16,
        help_text="Only if you enrolled an authenticator app.",
        widget=forms.TextInput(attrs={"autocomplete": "one-time-code", "inputmode": "numeric"}),
    )


class LockoutLoginMixin:
    #: Whether every user must have a confirmed authenticator (the admin's ADMIN_REQUIRE_MFA).
    requires_otp = False

    def clean(self):
        username = self.cleaned_data.get("username")
        if not username or not self.cleaned_data.get("password"):
            return super().clean()  # the form's own "required" errors; not an attempt
        try:
            attempt = login_attempt_begin(username=username, ip=client_ip(self.request))
        except (LoginLocked, LoginUnavailable) as exc:
            self.refused_status = exc.status_code
            self.retry_after = getattr(exc, "retry_after", 5)
            raise ValidationError(str(exc), code=LOCKED) from None
        try:
            super().clean()  # the password, and whether this user may log in here
        except ValidationError:
            login_attempt_failed(attempt=attempt)
            raise
        self._clean_otp(attempt)
        login_attempt_succeeded(attempt=attempt)
        return self.cleaned_data

    def _clean_otp(self, attempt) -> None:
        user = self.get_user()
        devices = otp_devices(user)
        if not devices and not self.requires_otp:
            return
        if not devices:
            login_attempt_withdrawn(attempt=attempt)
            raise ValidationError(
                "This site needs an authenticator app, and you have none yet: ask an "
                "administrator to enrol one (manage.py enrol_totp).",
                code="otp_not_enrolled",
            )
        code = self.cleaned_data.get("otp_token") or ""
        if not code:
            login_attempt_withdrawn(attempt=attempt)
            raise ValidationError(
                "Enter the code from your authenticator app.", code="otp_required"
            )
        device = otp_verify(user=user, code=code)
        if device is None:
            login_attempt_failed(attempt=attempt)
            raise ValidationError("Invalid authenticator code.", code="otp_invalid")
        # django-otp marks the session verified by this device when the view logs the user in.
        user.otp_device = device


class LockoutAuthenticationForm(LockoutLoginMixin, AuthenticationForm):
    """The browsable API's login form."""

    otp_token = _otp_token_field()


class LockoutAdminAuthenticationForm(LockoutLoginMixin, AdminAuthenticationForm):
    """The admin's login form (staff only)."""

    otp_token = _otp_token_field()

    @property
    def requires_otp(self) -> bool:
        return settings.ADMIN_REQUIRE_MFA
