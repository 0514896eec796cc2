"""The FHIR R4 face: the Patient API and the CapabilityStatement. Views parse, call the
patients' services or this app's selectors, and shape resources (resources.py)."""

from urllib.parse import urlencode

from django.urls import reverse
from django.utils.http import http_date
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import status
from rest_framework.exceptions import NotFound
from rest_framework.parsers import FormParser
from rest_framework.permissions import AllowAny
from rest_framework.response import Response
from rest_framework.views import APIView

from api.idempotency import idempotent
from api.permissions import ModelPermissionsWithView
from api.preconditions import if_match_versions
from audit.mixins import AuditedViewMixin
from audit.models import Action
from fhir_r4 import schema
from fhir_r4.exceptions import FhirError, NotAPatient, ResourceGone
from fhir_r4.models import SavedSearch
from fhir_r4.outcomes import fhir_exception_handler
from fhir_r4.pagination import BundleCursorPagination
from fhir_r4.permissions import SearchPermissions
from fhir_r4.renderers import FhirContentNegotiation, FhirJSONParser, FhirJSONRenderer
from fhir_r4.resources import (
    capability_statement,
    history_entry,
    last_updated,
    parse_patient,
    patient_fields,
    patient_resource,
)
from fhir_r4.selectors import (
    page_size,
    patient_state,
    patient_version,
    patients_search,
    saved_search_get,
    search_parameters,
)
from fhir_r4.services import saved_search_create
from patients.models import Patient, Via
from patients.selectors import HISTORY_ORDERING, LIST_ORDERING, patient_history
from patients.services import patient_create, patient_update

SAVED_SEARCH_ID_MAX_LENGTH = SavedSearch._meta.get_field("id").max_length

# The fields a FHIR Patient carries; a PUT replaces these and keeps the opt-outs, which
# have no FHIR element.
REPLACED_FIELDS = ("name", "phone", "email", "preferred_channel", "birth_date")


class FhirAPIView(APIView):
    """The base of every view under /fhir: FHIR's JSON in and out, and every error an
    OperationOutcome. Authentication (a Bearer token or a session), permissions (a login,
    unless a view says more) and throttles are the project's defaults."""

    renderer_classes = [FhirJSONRenderer]
    parser_classes = [FhirJSONParser]
    content_negotiation_class = FhirContentNegotiation
    # OPTIONS would describe the view in DRF's own format, not FHIR's: a 405, as for any
    # other method a view does not answer.
    metadata_class = None

    def _allowed_methods(self):
        # The Allow header (DRF sets it on every answer) lists what a view answers, so not
        # OPTIONS (above).
        return [method for method in super()._allowed_methods() if method != "OPTIONS"]

    def get_exception_handler(self):
        return fhir_exception_handler


def _absolute(request, name: str, *args) -> str:
    return request.build_absolute_uri(reverse(name, args=args))


def _resource_response(patient, **kwargs) -> Response:
    """A patient (or one of its versions) with its weak ETag and Last-Modified."""
    response = Response(patient_resource(patient), **kwargs)
    response["ETag"] = f'W/"{patient.version}"'
    response["Last-Modified"] = http_date(last_updated(patient).timestamp())
    return response


def _bundle(kind: str, links: dict[str, str], entries: list, total: int | None = None):
    bundle = {"resourceType": "Bundle", "type": kind}
    if total is not None:
        bundle["total"] = total
    bundle["link"] = [{"relation": relation, "url": url} for relation, url in links.items()]
    if entries:
        bundle["entry"] = entries
    return bundle


def _prefers_strict(request) -> bool:
    """Whether `Prefer: handling=strict` asks for unknown search parameters to be refused."""
    prefer = request.headers.get("Prefer", "")
    return any(
        part.strip().replace(" ", "").lower() == "handling=strict"
        for item in prefer.split(",")
        for part in item.split(";")
    )


class CapabilityStatementView(FhirAPIView):
    """GET /fhir/metadata: what this server does. No token needed, as FHIR clients ask
    before they log in."""

    authentication_classes = []
    permission_classes = [AllowAny]

    @extend_schema(
        operation_id="fhir_metadata",
        summary="The server's CapabilityStatement",
        auth=[],
        parameters=[schema.FORMAT],
        responses={
            200: schema.CapabilityStatementSchema,
            406: schema.ACCESS_ERRORS[406],
            429: schema.ACCESS_ERRORS[429],
        },
    )
    def get(self, request):
        return Response(
            capability_statement(
                base_url=_absolute(request, "fhir-metadata").removesuffix("/metadata"),
                login_url=reverse("auth-login"),
            )
        )


class _SearchMixin:
    """The Patient search, from a GET's query or a POST's form, as a searchset Bundle paged
    by the REST API's cursor. A POST search's parameters are saved under a random id
    (fhir_r4.models.SavedSearch) and its links carry that id, never the values."""

    pagination_ordering = LIST_ORDERING

    def search(self, request, given: dict[str, list[str]], *, saved_id: str | None = None):
        params = search_parameters(given, strict=_prefers_strict(request))
        size = page_size(params)
        queryset = patients_search(params)
        if request.method == "POST":
            saved_id = saved_search_create(user=request.user, params=params).pk
        base = _absolute(request, "fhir-patient-type")
        query = {"_search_id": saved_id} if saved_id else params
        base = f"{base}?{urlencode(query, doseq=True)}" if query else base
        if size == 0:
            self.audit_patients([])
            return Response(_bundle("searchset", {"self": base}, [], total=queryset.count()))
        paginator = BundleCursorPagination(size=size)
        page = paginator.paginate_queryset(queryset, request, view=self)
        self.audit_patients(patient.pk for patient in page)
        links = {"self": base, **paginator.links(base)}
        cursor = request.query_params.get(paginator.cursor_query_param)
        if cursor and request.method == "GET":
            separator = "&" if "?" in base else "?"
            links["self"] = f"{base}{separator}{urlencode({'cursor': cursor})}"
        entries = [
            {
                "fullUrl": _absolute(request, "fhir-patient", patient.pk),
                "resource": patient_resource(patient),
                "search": {"mode": "match"},
            }
            for patient in page
        ]
        return Response(_bundle("searchset", links, entries))


_SEARCH_QUERY = [
    *schema.SEARCH_PARAMETERS,
    schema.CURSOR,
    OpenApiParameter(
        "_search_id",
        {"type": "string", "maxLength": SAVED_SEARCH_ID_MAX_LENGTH},
        description=(
            "A POST search's id, from its `next` link; 410 once expired "
            "(FHIR_SEARCH_LIFETIME) or for another user."
        ),
    ),
    schema.FORMAT,
    schema.PREFER,
]
_SEARCH_FORM = {
    "type": "object",
    "properties": {
        **{
            parameter.name: parameter.type
            for parameter in schema.SEARCH_PARAMETERS
            if parameter.name != "birthdate"
        },
        "birthdate": {"type": "string", "pattern": schema.SEARCH_PARAMETERS[5].pattern},
    },
}
_SEARCH_RESPONSES = {
    200: schema.SearchsetSchema,
    400: schema.BAD_REQUEST,
    410: schema.outcome("The saved search (_search_id) expired or is not yours (`expired`)."),
    **schema.ACCESS_ERRORS,
}


class PatientTypeView(_SearchMixin, AuditedViewMixin, FhirAPIView):
    """/fhir/Patient: GET searches, POST creates."""

    audit_actions = {"get": Action.PATIENT_LIST, "post": Action.PATIENT_CREATE}
    # For the permission class (model and app label) only; reads go through the selectors.
    queryset = Patient.objects.none()
    permission_classes = [ModelPermissionsWithView]

    @extend_schema(
        operation_id="fhir_patient_search",
        summary="Search patients (FHIR searchset Bundle)",
        parameters=_SEARCH_QUERY,
        responses=_SEARCH_RESPONSES,
    )
    def get(self, request):
        saved_id = request.query_params.get("_search_id")
        if saved_id is None:
            return self.search(request, dict(request.query_params.lists()))
        if len(saved_id) > SAVED_SEARCH_ID_MAX_LENGTH:
            raise FhirError("_search_id is not a search's id")
        # The saved parameters are the search; any in the URL are still checked as a
        # search's would be, so a bad one is a 400 with or without an id.
        url_params = search_parameters(
            dict(request.query_params.lists()), strict=_prefers_strict(request)
        )
        page_size(url_params)
        patients_search(url_params)
        saved = saved_search_get(search_id=saved_id, user=request.user)
        if saved is None:
            raise ResourceGone(
                "This search expired (or is not yours): run it again", code="expired"
            )
        return self.search(request, saved.params, saved_id=saved.pk)

    @extend_schema(
        operation_id="fhir_patient_create",
        summary="Create a patient from a FHIR Patient",
        request=schema.PatientInputSchema,
        parameters=[schema.IDEMPOTENCY_KEY, schema.LOCATION, *schema.etag_headers(201)],
        responses={
            201: schema.PATIENT,
            400: schema.BAD_REQUEST,
            409: schema.outcome("A request with this Idempotency-Key is still running."),
            415: schema.UNSUPPORTED_MEDIA_TYPE,
            422: schema.UNPROCESSABLE,
            **schema.ACCESS_ERRORS,
        },
    )
    def post(self, request):
        response = idempotent(
            request, scope="POST /fhir/Patient", respond=lambda: self._create(request)
        )
        if status.is_success(response.status_code):  # a replay's patient too
            self.audit_patients([response.data["id"]])
        return response

    def _create(self, request) -> Response:
        # A create ignores the body's id (FHIR's rule): the server names the resource.
        fields = patient_fields(parse_patient(request.data))
        patient = patient_create(**fields, actor=request.user, via=Via.API)
        location = _absolute(request, "fhir-patient-version", patient.pk, patient.version)
        return _resource_response(
            patient, status=status.HTTP_201_CREATED, headers={"Location": location}
        )


class PatientSearchView(_SearchMixin, AuditedViewMixin, FhirAPIView):
    """POST /fhir/Patient/_search: the search with its values in a form body, not the URL."""

    audit_actions = {"post": Action.PATIENT_LIST}
    audit_patient_kwarg = None
    queryset = Patient.objects.none()
    permission_classes = [SearchPermissions]
    parser_classes = [FormParser]

    @extend_schema(
        operation_id="fhir_patient_search_post",
        summary="Search patients, the values in a form body (FHIR searchset Bundle)",
        request={"application/x-www-form-urlencoded": _SEARCH_FORM},
        parameters=[schema.FORMAT, schema.PREFER],
        responses={
            **{code: answer for code, answer in _SEARCH_RESPONSES.items() if code != 410},
            415: schema.outcome("A body that is not a form (issue code `not-supported`)."),
        },
    )
    def post(self, request):
        given = dict(request.query_params.lists())
        if hasattr(request.data, "lists"):  # a form; no body at all parses as {}
            given.update(request.data.lists())
        return self.search(request, given)


class PatientInstanceView(AuditedViewMixin, FhirAPIView):
    """/fhir/Patient/<id>: read and update (a FHIR update replaces the resource)."""

    audit_actions = {"get": Action.PATIENT_READ, "put": Action.PATIENT_UPDATE}
    queryset = Patient.objects.none()
    permission_classes = [ModelPermissionsWithView]

    @extend_schema(
        operation_id="fhir_patient_read",
        summary="Read a patient (FHIR Patient)",
        parameters=[schema.FORMAT, *schema.etag_headers(200)],
        responses={
            200: schema.PATIENT,
            404: schema.NOT_FOUND,
            410: schema.GONE,
            **schema.ACCESS_ERRORS,
        },
    )
    def get(self, request, pk):
        state = patient_state(patient_id=pk)
        if state.patient is None:
            if state.deleted:
                raise ResourceGone("Patient was deleted")
            raise FhirError("Patient not found", status_code=404, code="not-found")
        return _resource_response(state.patient)

    @extend_schema(
        operation_id="fhir_patient_update",
        summary="Replace a patient from a FHIR Patient (an element left out is cleared)",
        request=schema.PatientInputSchema,
        parameters=[schema.IF_MATCH, *schema.etag_headers(200)],
        responses={
            200: schema.PATIENT,
            400: schema.BAD_REQUEST,
            405: schema.PUT_NOT_ALLOWED,
            410: schema.outcome(
                "The patient was deleted: restoring is staff's, in the admin (`deleted`)."
            ),
            412: schema.PRECONDITION_FAILED,
            415: schema.UNSUPPORTED_MEDIA_TYPE,
            422: schema.UNPROCESSABLE,
            **schema.ACCESS_ERRORS,
        },
    )
    def put(self, request, pk):
        # The body first: a request that is not an update is 400 whatever the id's state.
        resource = parse_patient(request.data)
        state = patient_state(patient_id=pk)
        if state.patient is None:
            if state.deleted:
                raise ResourceGone(
                    "Patient was deleted: staff can restore it in the admin; an update does "
                    "not bring it back"
                )
            raise FhirError(
                "No patient has this id, and an update does not create one (updateCreate "
                "is false): POST /fhir/Patient creates",
                status_code=status.HTTP_405_METHOD_NOT_ALLOWED,
                code="not-supported",
                headers={"Allow": "GET, HEAD, PUT"},
            )
        if resource.id != str(state.patient.pk):
            # R4's update: the body's id must be the URL's, and present.
            raise NotAPatient("The resource's id must be the id in the URL", code="invalid")
        fields = patient_fields(resource)
        patient = patient_update(
            patient=state.patient,
            data={field: fields[field] for field in REPLACED_FIELDS},
            actor=request.user,
            via=Via.API,
            expected_versions=if_match_versions(request.headers.get("If-Match")),
        )
        return _resource_response(patient)


class _HistoryPaging:
    pagination_ordering = HISTORY_ORDERING


class PatientHistoryView(_HistoryPaging, AuditedViewMixin, FhirAPIView):
    """/fhir/Patient/<id>/_history: every version, newest first, a deleted patient's too."""

    audit_actions = {"get": Action.PATIENT_HISTORY}
    queryset = Patient.objects.none()
    permission_classes = [ModelPermissionsWithView]

    @extend_schema(
        operation_id="fhir_patient_history",
        summary="A patient's versions (FHIR history Bundle)",
        parameters=[schema.COUNT, schema.CURSOR, schema.FORMAT],
        responses={
            200: schema.HistorySchema,
            400: schema.BAD_REQUEST,
            404: schema.NOT_FOUND,
            **schema.ACCESS_ERRORS,
        },
    )
    def get(self, request, pk):
        versions = patient_history(patient_id=pk)
        if versions is None:
            raise FhirError("Patient not found", status_code=404, code="not-found")
        size = page_size(dict(request.query_params.lists()))
        base = _absolute(request, "fhir-patient-history", pk)
        if size == 0:
            return Response(_bundle("history", {"self": base}, [], total=versions.count()))
        paginator = BundleCursorPagination(size=size)
        page = paginator.paginate_queryset(versions, request, view=self)
        if size is not None:
            base = f"{base}?{urlencode({'_count': size})}"
        links = {"self": request.build_absolute_uri(), **paginator.links(base)}
        full_url = _absolute(request, "fhir-patient", pk)
        entries = [history_entry(version, full_url=full_url) for version in page]
        return Response(_bundle("history", links, entries))


class PatientVersionView(AuditedViewMixin, FhirAPIView):
    """/fhir/Patient/<id>/_history/<version>: one version (vread)."""

    audit_actions = {"get": Action.PATIENT_HISTORY}
    queryset = Patient.objects.none()
    permission_classes = [ModelPermissionsWithView]

    @extend_schema(
        operation_id="fhir_patient_vread",
        summary="Read one version of a patient (FHIR Patient)",
        parameters=[schema.FORMAT, *schema.etag_headers(200)],
        responses={
            200: schema.PATIENT,
            404: schema.outcome("No such patient or version (issue code `not-found`)."),
            410: schema.outcome(
                "The version is a deletion, or its details were erased after the retention "
                "period (issue code `deleted`)."
            ),
            **schema.ACCESS_ERRORS,
        },
    )
    def get(self, request, pk, vid):
        version = patient_version(patient_id=pk, version_id=vid)
        if version is None:
            raise FhirError("No such patient or version", status_code=404, code="not-found")
        if version.history_type == "-":
            raise ResourceGone(f"Version {version.version} is the patient's deletion")
        if version.erased_at is not None:
            raise ResourceGone(
                f"Version {version.version}'s details were erased after the retention period"
            )
        return _resource_response(version)


@extend_schema(exclude=True)
class UnknownFhirPathView(FhirAPIView):
    """Anything else under /fhir/: a 404 OperationOutcome for any method, not the API's own
    404 body."""

    permission_classes = [AllowAny]

    def initial(self, request, *args, **kwargs):
        super().initial(request, *args, **kwargs)  # the throttles count it
        raise NotFound("No such FHIR endpoint: this server has Patient (see /fhir/metadata)")
