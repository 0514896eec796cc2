"""Logins and logouts: django-rest-knox's token views with the API's throttle and error shapes,
and the session login pages (the admin's and the browsable API's) under the same limit."""

import functools

from django.contrib.auth import views as auth_views
from drf_spectacular.utils import extend_schema, extend_schema_view, inline_serializer
from knox import views as knox_views
from rest_framework import serializers
from rest_framework.authtoken.serializers import AuthTokenSerializer
from rest_framework.permissions import AllowAny

from accounts.authentication import BearerTokenAuthentication
from accounts.forms import THROTTLED, ThrottledAuthenticationForm
from api.schema import ACCESS_ERRORS, VALIDATION_ERROR
from api.serializers import ObjectInputSerializer
from api.throttling import SharedScopedRateThrottle

TOKEN = inline_serializer(
    "Token", {"token": serializers.CharField(), "expiry": serializers.DateTimeField()}
)


class LoginSerializer(ObjectInputSerializer):
    username = serializers.CharField(max_length=150)
    password = serializers.CharField(max_length=4096, trim_whitespace=False)


@extend_schema_view(
    post=extend_schema(
        request=LoginSerializer,
        responses={200: TOKEN, 400: VALIDATION_ERROR},
        auth=[],
    )
)
class LoginView(knox_views.LoginView):
    """POST {"username", "password"} -> {"token", "expiry"}: a new token for this user."""

    authentication_classes = ()
    permission_classes = (AllowAny,)
    throttle_classes = (SharedScopedRateThrottle,)
    throttle_scope = "login"
    serializer_class = LoginSerializer

    def post(self, request, format=None):
        credentials = LoginSerializer(data=request.data)
        credentials.is_valid(raise_exception=True)
        check = AuthTokenSerializer(data=credentials.validated_data, context={"request": request})
        if not check.is_valid():
            raise serializers.ValidationError({"credentials": ["Invalid username or password"]})
        request.user = check.validated_data["user"]
        return super().post(request, format)


@extend_schema_view(post=extend_schema(request=None, responses={204: None, **ACCESS_ERRORS}))
class LogoutView(knox_views.LogoutView):
    """POST: revoke the token this request was made with."""

    authentication_classes = (BearerTokenAuthentication,)


@extend_schema_view(post=extend_schema(request=None, responses={204: None, **ACCESS_ERRORS}))
class LogoutAllView(knox_views.LogoutAllView):
    """POST: revoke every token of this user."""

    authentication_classes = (BearerTokenAuthentication,)


def throttled_status(login_view):
    """Answer 429 (with Retry-After) when a login page's form refused the attempt for the
    rate limit; the page itself says so and why."""

    @functools.wraps(login_view)
    def wrapped(request, *args, **kwargs):
        response = login_view(request, *args, **kwargs)
        form = (getattr(response, "context_data", None) or {}).get("form")
        if form is not None and form.is_bound and form.has_error("__all__", code=THROTTLED):
            response.status_code = 429
            response["Retry-After"] = str(form.retry_after)
        return response

    return wrapped


browsable_api_login = throttled_status(
    auth_views.LoginView.as_view(
        template_name="rest_framework/login.html",
        authentication_form=ThrottledAuthenticationForm,
    )
)
