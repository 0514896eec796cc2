"""Token login and logout: django-rest-knox's views with the API's throttle and error shapes."""

from drf_spectacular.utils import extend_schema, extend_schema_view, inline_serializer
from knox import views as knox_views
from rest_framework import serializers
from rest_framework.authtoken.serializers import AuthTokenSerializer
from rest_framework.permissions import AllowAny

from accounts.authentication import BearerTokenAuthentication
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
