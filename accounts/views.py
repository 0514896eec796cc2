"""Logins and logouts: django-rest-knox's token views with the login lockout, the second factor
and the API's error shapes, and the session login pages (the admin's and the browsable API's)
under the same lockout."""

import functools

from django.contrib.auth import authenticate
from django.contrib.auth import views as auth_views
from drf_spectacular.utils import (
    OpenApiExample,
    OpenApiResponse,
    extend_schema,
    extend_schema_view,
    inline_serializer,
)
from knox import views as knox_views
from rest_framework import exceptions, serializers, status
from rest_framework.permissions import AllowAny

from accounts.authentication import BearerTokenAuthentication
from accounts.forms import LOCKED, LockoutAuthenticationForm
from accounts.services import (
    LoginLocked,
    login_attempt_begin,
    login_attempt_failed,
    login_attempt_succeeded,
    login_attempt_withdrawn,
    otp_devices,
    otp_verify,
)
from accounts.tokens import login_token_create
from api.clientip import client_ip
from api.exceptions import ApplicationError
from api.schema import JSON, error_response, ref
from api.serializers import ObjectInputSerializer

TOKEN = inline_serializer(
    "Token", {"token": serializers.CharField(), "expiry": serializers.DateTimeField()}
)


class LoginSerializer(ObjectInputSerializer):
    username = serializers.CharField(max_length=150)
    password = serializers.CharField(max_length=4096, trim_whitespace=False)
    otp = serializers.CharField(
        max_length=16,
        required=False,
        allow_blank=True,
        help_text="The code from the user's authenticator app, if they enrolled one.",
    )


class OTPRequired(ApplicationError):
    status_code = status.HTTP_401_UNAUTHORIZED
    message = "OTP code required"


class OTPInvalid(ApplicationError):
    status_code = status.HTTP_401_UNAUTHORIZED
    message = "Invalid OTP code"


LOGIN_EXAMPLES = [
    OpenApiExample(
        "Log in", value={"username": "demo", "password": "<password>"}, request_only=True
    ),
    OpenApiExample(
        "A token",
        value={"expiry": "2026-01-05T09:42:44.120391Z", "token": 64 * "0"},
        response_only=True,
        status_codes=[200],
    ),
    OpenApiExample(
        "Wrong password",
        value={
            "error": "Invalid username or password",
            "errors": {"credentials": ["Invalid username or password"]},
        },
        response_only=True,
        status_codes=[400],
    ),
]


@extend_schema_view(
    post=extend_schema(
        request={JSON: LoginSerializer},
        responses={
            200: TOKEN,
            400: OpenApiResponse(
                ref("BadRequest"),
                description="A field failed validation, or a wrong username or password "
                '(`"error": "Invalid username or password"`).',
            ),
            401: error_response("The user has an authenticator: its code is missing or wrong."),
            429: OpenApiResponse(
                ref("TooManyRequests"),
                description="Too many failed logins from this address, or over the rate limit "
                "(`Retry-After`).",
            ),
            503: error_response(
                "Logins are unavailable for a moment: the lockout's database "
                "did not answer, or the web process is overloaded."
            ),
        },
        examples=LOGIN_EXAMPLES,
        auth=[],
    )
)
class LoginView(knox_views.LoginView):
    """POST {"username", "password"[, "otp"]} -> {"token", "expiry"}: a new token for this
    user, which expires after TOKEN_IDLE_TIMEOUT without use and TOKEN_MAX_AGE at the latest.

    Each attempt is counted by the login lockout before the password is checked; a user with a
    confirmed authenticator must also send its current code as "otp".
    """

    authentication_classes = ()
    permission_classes = (AllowAny,)
    serializer_class = LoginSerializer

    def post(self, request, format=None):
        credentials = LoginSerializer(data=request.data)
        credentials.is_valid(raise_exception=True)
        username = credentials.validated_data["username"]
        try:
            attempt = login_attempt_begin(username=username, ip=client_ip(request))
        except LoginLocked as exc:
            raise exceptions.Throttled(wait=exc.retry_after, detail=str(exc)) from None
        user = authenticate(
            request, username=username, password=credentials.validated_data["password"]
        )
        if user is None:
            login_attempt_failed(attempt=attempt)
            raise serializers.ValidationError({"credentials": ["Invalid username or password"]})
        if otp_devices(user):
            code = credentials.validated_data.get("otp", "")
            if not code:
                login_attempt_withdrawn(attempt=attempt)
                raise OTPRequired()
            if otp_verify(user=user, code=code) is None:
                login_attempt_failed(attempt=attempt)
                raise OTPInvalid()
        login_attempt_succeeded(attempt=attempt)
        request.user = user
        return super().post(request, format)

    def create_token(self):
        return login_token_create(user=self.request.user)


@extend_schema_view(post=extend_schema(request=None, responses={204: None}))
class LogoutView(knox_views.LogoutView):
    """POST: revoke the token this request was made with."""

    authentication_classes = (BearerTokenAuthentication,)


@extend_schema_view(post=extend_schema(request=None, responses={204: None}))
class LogoutAllView(knox_views.LogoutAllView):
    """POST: revoke every token of this user."""

    authentication_classes = (BearerTokenAuthentication,)


def throttled_status(login_view):
    """Answer 429 (with Retry-After) when a login page's form refused the attempt for the
    lockout, and 503 when the lockout could not count it; the page itself says so and why."""

    @functools.wraps(login_view)
    def wrapped(request, *args, **kwargs):
        response = login_view(request, *args, **kwargs)
        form = (getattr(response, "context_data", None) or {}).get("form")
        refused = getattr(form, "refused_status", None) if form is not None else None
        if refused is not None and form.is_bound and form.has_error("__all__", code=LOCKED):
            response.status_code = refused
            response["Retry-After"] = str(form.retry_after)
        return response

    return wrapped


browsable_api_login = throttled_status(
    auth_views.LoginView.as_view(
        template_name="accounts/api_login.html",
        authentication_form=LockoutAuthenticationForm,
    )
)
