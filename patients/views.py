"""The patients API. Views parse, call one service or selector, and shape the response."""

from django.urls import reverse
from drf_spectacular.utils import extend_schema, extend_schema_view
from rest_framework import status, viewsets
from rest_framework.decorators import action
from rest_framework.response import Response

from api.exceptions import validated
from api.idempotency import idempotent
from api.pagination import LinkHeaderCursorPagination
from api.permissions import ModelPermissionsWithView
from api.preconditions import etag, if_match_versions
from api.schema import BAD_REQUEST, JSON, LINK, PAGE_PARAMETERS
from audit.mixins import AuditedViewMixin
from audit.models import Action
from notifications.selectors import NEWEST_FIRST, notifications_for_patient
from notifications.serializers import NotificationSerializer
from patients.models import Patient, Via
from patients.schema import (
    CONFLICT,
    CREATE_CONFLICT,
    CREATE_EXAMPLES,
    ETAG,
    IDEMPOTENCY_KEY,
    IF_MATCH,
    KEY_REUSED,
    LIST_PARAMETERS,
    LOCATION,
    MODIFIED,
    NOT_FOUND,
    PATIENT_DELETED,
    PATIENT_ID,
    PATIENT_WRITTEN,
    READ_EXAMPLES,
    REPLAYED,
    TOTAL_COUNT,
    UPDATE_EXAMPLES,
    WRITTEN_ETAG,
)
from patients.selectors import (
    HISTORY_ORDERING,
    LIST_ORDERING,
    patient_get,
    patient_history,
    patient_list,
    patient_versions_described,
)
from patients.serializers import (
    PatientInputSerializer,
    PatientListQuerySerializer,
    PatientSerializer,
    PatientVersionSerializer,
)
from patients.services import PatientNotFound, patient_create, patient_delete, patient_update

UPDATE_SCHEMA = extend_schema(
    request={JSON: PatientInputSerializer(partial=True)},
    parameters=[PATIENT_ID, IF_MATCH, WRITTEN_ETAG],
    responses={
        200: PATIENT_WRITTEN,
        400: BAD_REQUEST,
        404: NOT_FOUND,
        409: CONFLICT,
        412: MODIFIED,
    },
    examples=UPDATE_EXAMPLES,
)


@extend_schema_view(
    list=extend_schema(
        parameters=[*LIST_PARAMETERS, LINK, TOTAL_COUNT],
        responses={200: PatientSerializer(many=True)},
    ),
    create=extend_schema(
        request={JSON: PatientInputSerializer},
        parameters=[IDEMPOTENCY_KEY, WRITTEN_ETAG, LOCATION, REPLAYED],
        responses={
            201: PATIENT_WRITTEN,
            400: BAD_REQUEST,
            409: CREATE_CONFLICT,
            422: KEY_REUSED,
        },
        examples=CREATE_EXAMPLES,
    ),
    retrieve=extend_schema(
        parameters=[PATIENT_ID, ETAG],
        responses={200: PatientSerializer, 404: NOT_FOUND},
        examples=READ_EXAMPLES,
    ),
    # PUT and PATCH alike: both change the fields given and keep the others.
    update=UPDATE_SCHEMA,
    partial_update=UPDATE_SCHEMA,
    destroy=extend_schema(
        parameters=[PATIENT_ID, IF_MATCH, WRITTEN_ETAG],
        responses={200: PATIENT_DELETED, 404: NOT_FOUND, 412: MODIFIED},
    ),
    history=extend_schema(
        parameters=[PATIENT_ID, *PAGE_PARAMETERS, LINK],
        responses={200: PatientVersionSerializer(many=True), 404: NOT_FOUND},
    ),
    notifications=extend_schema(
        parameters=[PATIENT_ID, *PAGE_PARAMETERS, LINK],
        responses={200: NotificationSerializer(many=True), 404: NOT_FOUND},
    ),
)
class PatientViewSet(AuditedViewMixin, viewsets.GenericViewSet):
    """Patient records: list and search, create, read, update (PUT and PATCH alike), delete,
    history. Each request writes an access record (audit.mixins) naming the patients it
    returned or touched."""

    audit_actions = {
        "list": Action.PATIENT_LIST,
        "create": Action.PATIENT_CREATE,
        "retrieve": Action.PATIENT_READ,
        "update": Action.PATIENT_UPDATE,
        "partial_update": Action.PATIENT_UPDATE,
        "destroy": Action.PATIENT_DELETE,
        "history": Action.PATIENT_HISTORY,
        "notifications": Action.PATIENT_NOTIFICATIONS,
    }

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
        self.audit_patients(patient.pk for patient in page)
        response = self.get_paginated_response(PatientSerializer(page, many=True).data)
        if params.validated_data["count"]:
            response["X-Total-Count"] = str(queryset.count())
        return response

    def create(self, request):
        response = idempotent(
            request, scope="POST /patients", respond=lambda: self._create(request)
        )
        if status.is_success(response.status_code):  # a replay's patient too
            self.audit_patients([response.data["patient_id"]])
        return response

    def _create(self, request):
        data = self._validated(request)
        patient = patient_create(**data, actor=request.user, via=Via.API)
        location = request.build_absolute_uri(reverse("patient-detail", args=[patient.pk]))
        return self._written(
            "Patient created successfully",
            patient,
            status=status.HTTP_201_CREATED,
            headers={"Location": location},
        )

    def retrieve(self, request, pk=None):
        patient = self.get_object()
        return Response(PatientSerializer(patient).data, headers={"ETag": etag(patient.version)})

    def update(self, request, pk=None):
        # PUT keeps the fields it is not given, as the original did: its clients send
        # partial bodies. PATCH is the same call.
        patient = self.get_object()
        data = self._validated(request, partial=True)
        patient = patient_update(
            patient=patient,
            data=data,
            actor=request.user,
            via=Via.API,
            expected_versions=self._if_match(request),
        )
        return self._written("Patient updated successfully", patient)

    partial_update = update

    def destroy(self, request, pk=None):
        deleted = patient_delete(
            patient=self.get_object(),
            actor=request.user,
            via=Via.API,
            expected_versions=self._if_match(request),
        )
        return Response(
            {"message": "Patient deleted successfully"}, headers={"ETag": etag(deleted.version)}
        )

    @action(detail=True, methods=["get"], pagination_ordering=HISTORY_ORDERING)
    def history(self, request, pk=None):
        """Every version of the patient, newest first, a deleted patient's included."""
        versions = patient_history(patient_id=pk)
        if versions is None:
            raise PatientNotFound()
        page = self.paginate_queryset(versions)
        entries = patient_versions_described(page)
        return self.get_paginated_response(PatientVersionSerializer(entries, many=True).data)

    @action(detail=True, methods=["get"], pagination_ordering=NEWEST_FIRST)
    def notifications(self, request, pk=None):
        """The notices sent (or skipped) to this patient, newest first."""
        page = self.paginate_queryset(notifications_for_patient(patient_id=self.get_object().pk))
        return self.get_paginated_response(NotificationSerializer(page, many=True).data)

    def _validated(self, request, partial: bool = False) -> dict:
        return validated(PatientInputSerializer(data=request.data, partial=partial))

    @staticmethod
    def _if_match(request) -> frozenset[int] | None:
        return if_match_versions(request.headers.get("If-Match"))

    @staticmethod
    def _written(message: str, patient: Patient, **kwargs) -> Response:
        response = Response(
            {
                "message": message,
                "patient_id": str(patient.pk),
                "patient": PatientSerializer(patient).data,
            },
            **kwargs,
        )
        response["ETag"] = etag(patient.version)
        return response
