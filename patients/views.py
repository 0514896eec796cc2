"""The patients API. Views parse, call one service or selector, and shape the response."""

from django.urls import reverse
from drf_spectacular.utils import extend_schema, extend_schema_view
from rest_framework import status, viewsets
from rest_framework.decorators import action
from rest_framework.response import Response

from api.exceptions import validated
from api.pagination import LinkHeaderCursorPagination
from api.permissions import ModelPermissionsWithView
from api.schema import ACCESS_ERRORS
from notifications.selectors import NEWEST_FIRST, notifications_for_patient
from notifications.serializers import NotificationSerializer
from patients.models import Patient
from patients.schema import (
    LIST_PARAMETERS,
    NOT_FOUND,
    PATIENT_DELETED,
    PATIENT_WRITTEN,
    WRITE_ERRORS,
)
from patients.selectors import LIST_ORDERING, patient_get, patient_list
from patients.serializers import (
    PatientInputSerializer,
    PatientListQuerySerializer,
    PatientSerializer,
)
from patients.services import PatientNotFound, patient_create, patient_delete, patient_update


@extend_schema_view(
    list=extend_schema(
        parameters=LIST_PARAMETERS, responses={200: PatientSerializer(many=True), **ACCESS_ERRORS}
    ),
    create=extend_schema(responses={201: PATIENT_WRITTEN, **WRITE_ERRORS}),
    retrieve=extend_schema(responses={200: PatientSerializer, 404: NOT_FOUND, **ACCESS_ERRORS}),
    update=extend_schema(
        request=PatientInputSerializer(partial=True),
        responses={200: PATIENT_WRITTEN, 404: NOT_FOUND, **WRITE_ERRORS},
    ),
    partial_update=extend_schema(
        request=PatientInputSerializer(partial=True),
        responses={200: PATIENT_WRITTEN, 404: NOT_FOUND, **WRITE_ERRORS},
    ),
    destroy=extend_schema(responses={200: PATIENT_DELETED, 404: NOT_FOUND, **ACCESS_ERRORS}),
    notifications=extend_schema(
        parameters=LIST_PARAMETERS[1:3],
        responses={200: NotificationSerializer(many=True), 404: NOT_FOUND, **ACCESS_ERRORS},
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

    @action(detail=True, methods=["get"], pagination_ordering=NEWEST_FIRST)
    def notifications(self, request, pk=None):
        """The notices sent (or skipped) to this patient, newest first."""
        page = self.paginate_queryset(notifications_for_patient(patient_id=self.get_object().pk))
        return self.get_paginated_response(NotificationSerializer(page, many=True).data)

    def _validated(self, request, partial: bool = False) -> dict:
        return validated(PatientInputSerializer(data=request.data, partial=partial))
