"""The patients API and the token login. Views parse, call one service or selector, and shape
the response."""

from django.urls import reverse
from drf_spectacular.utils import extend_schema, extend_schema_view
from knox import views as knox_views
from rest_framework import serializers, status, viewsets
from rest_framework.authtoken.serializers import AuthTokenSerializer
from rest_framework.decorators import action
from rest_framework.permissions import AllowAny
from rest_framework.response import Response

from notifications.selectors import notifications_for_patient
from notifications.serializers import NotificationSerializer
from patients.authentication import BearerTokenAuthentication
from patients.models import Patient
from patients.pagination import LinkHeaderCursorPagination
from patients.permissions import ModelPermissionsWithView
from patients.schema import (
    CONFLICT,
    FORBIDDEN,
    LIST_PARAMETERS,
    NOT_FOUND,
    PATIENT_DELETED,
    PATIENT_WRITTEN,
    TOKEN,
    UNAUTHORIZED,
    VALIDATION_ERROR,
)
from patients.selectors import LIST_ORDERING, patient_get, patient_list
from patients.serializers import (
    PatientInputSerializer,
    PatientListQuerySerializer,
    PatientSerializer,
)
from patients.services import PatientNotFound, patient_create, patient_delete, patient_update
from telehealth.serializers import ObjectInputSerializer
from telehealth.throttling import SharedScopedRateThrottle

_ERRORS = {401: UNAUTHORIZED, 403: FORBIDDEN}
_WRITE_ERRORS = {**_ERRORS, 400: VALIDATION_ERROR, 409: CONFLICT}


@extend_schema_view(
    list=extend_schema(
        parameters=LIST_PARAMETERS, responses={200: PatientSerializer(many=True), **_ERRORS}
    ),
    create=extend_schema(responses={201: PATIENT_WRITTEN, **_WRITE_ERRORS}),
    retrieve=extend_schema(responses={200: PatientSerializer, 404: NOT_FOUND, **_ERRORS}),
    update=extend_schema(
        request=PatientInputSerializer(partial=True),
        responses={200: PATIENT_WRITTEN, 404: NOT_FOUND, **_WRITE_ERRORS},
    ),
    partial_update=extend_schema(
        request=PatientInputSerializer(partial=True),
        responses={200: PATIENT_WRITTEN, 404: NOT_FOUND, **_WRITE_ERRORS},
    ),
    destroy=extend_schema(responses={200: PATIENT_DELETED, 404: NOT_FOUND, **_ERRORS}),
    notifications=extend_schema(
        parameters=LIST_PARAMETERS[1:3],
        responses={200: NotificationSerializer(many=True), 404: NOT_FOUND, **_ERRORS},
    ),
)
class PatientViewSet(viewsets.GenericViewSet):
    """Patient records: list and search, create, read, update (PUT and PATCH alike), delete."""

    # For the permission class (model and app label) only; reads go through the selectors.
    queryset = Patient.objects.none()
    # Anything up to the next slash is an id, so a malformed one (even with a dot) gets the
    # contract's "Patient not found" rather than the router's bare 404.
    lookup_value_regex = "[^/]+"
    permission_classes = [ModelPermissionsWithView]
    pagination_class = LinkHeaderCursorPagination
    pagination_ordering = LIST_ORDERING
    serializer_class = PatientInputSerializer

    def get_object(self) -> Patient:
        patient = patient_get(patient_id=self.kwargs["pk"])
        if patient is None:
            raise PatientNotFound()
        return patient

    def list(self, request):
        params = PatientListQuerySerializer(data=request.query_params)
        params.is_valid(raise_exception=True)
        queryset = patient_list(search=params.validated_data.get("search"))
        page = self.paginate_queryset(queryset)
        response = self.get_paginated_response(PatientSerializer(page, many=True).data)
        if params.validated_data["count"]:
            response["X-Total-Count"] = str(queryset.count())
        return response

    def create(self, request):
        data = self._validated(request)
        patient = patient_create(**data, actor=request.user)
        location = request.build_absolute_uri(reverse("patient-detail", args=[patient.pk]))
        return Response(
            {
                "message": "Patient created successfully",
                "patient_id": str(patient.pk),
                "patient": PatientSerializer(patient).data,
            },
            status=status.HTTP_201_CREATED,
            headers={"Location": location},
        )

    def retrieve(self, request, pk=None):
        return Response(PatientSerializer(self.get_object()).data)

    def update(self, request, pk=None):
        # PUT keeps the fields it is not given, as the original did: its clients send
        # partial bodies. PATCH is the same call.
        patient = self.get_object()
        data = self._validated(request, partial=True)
        patient = patient_update(patient=patient, data=data, actor=request.user)
        return Response(
            {
                "message": "Patient updated successfully",
                "patient_id": str(patient.pk),
                "patient": PatientSerializer(patient).data,
            }
        )

    partial_update = update

    def destroy(self, request, pk=None):
        patient_delete(patient=self.get_object(), actor=request.user)
        return Response({"message": "Patient deleted successfully"})

    @action(detail=True, methods=["get"], pagination_ordering=("-created_at", "-id"))
    def notifications(self, request, pk=None):
        """The notices sent (or skipped) to this patient, newest first."""
        page = self.paginate_queryset(notifications_for_patient(patient=self.get_object()))
        return self.get_paginated_response(NotificationSerializer(page, many=True).data)

    def _validated(self, request, partial: bool = False) -> dict:
        serializer = PatientInputSerializer(data=request.data, partial=partial)
        serializer.is_valid(raise_exception=True)
        return serializer.validated_data


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


@extend_schema_view(post=extend_schema(request=None, responses={204: None, **_ERRORS}))
class LogoutView(knox_views.LogoutView):
    """POST: revoke the token this request was made with."""

    authentication_classes = (BearerTokenAuthentication,)


@extend_schema_view(post=extend_schema(request=None, responses={204: None, **_ERRORS}))
class LogoutAllView(knox_views.LogoutAllView):
    """POST: revoke every token of this user."""

    authentication_classes = (BearerTokenAuthentication,)
