"""Every request to an audited API view leaves one access record, whatever its answer, and a
write commits with its record or not at all. The views here are stand-ins (this module is
their URLconf) that read and write patients the way the patients API does."""

import uuid
from http import HTTPStatus

import pytest
from django.core.exceptions import ImproperlyConfigured
from django.db import transaction
from django.urls import path
from knox.models import AuthToken
from rest_framework import serializers, viewsets
from rest_framework.decorators import action
from rest_framework.response import Response
from rest_framework.routers import SimpleRouter
from rest_framework.test import APIClient
from rest_framework.views import APIView

from api.exceptions import ConflictError, NotFoundError
from api.permissions import ModelPermissionsWithView
from audit.mixins import AuditedViewMixin
from audit.models import AccessRecord, Action, Via
from audit.services import access_record
from patients.models import Patient
from patients.tests.factories import PatientFactory

pytestmark = [pytest.mark.django_db, pytest.mark.urls(__name__)]


# What on_commit hooks saw committed.
COMMITTED: list[uuid.UUID] = []


class PatientViewSet(AuditedViewMixin, viewsets.GenericViewSet):
    queryset = Patient.objects.none()
    serializer_class = serializers.Serializer  # for OPTIONS
    permission_classes = [ModelPermissionsWithView]
    lookup_value_regex = "[^/]+"
    audit_actions = {
        "list": Action.PATIENT_LIST,
        "retrieve": Action.PATIENT_READ,
        "create": Action.PATIENT_CREATE,
        "destroy": Action.PATIENT_DELETE,
        "notifications": Action.PATIENT_NOTIFICATIONS,
        # "undeclared" is left out on purpose.
    }

    def list(self, request):
        patients = list(Patient.objects.order_by("created_at", "id"))
        self.audit_patients(patient.pk for patient in patients)
        return Response([str(patient.pk) for patient in patients])

    def retrieve(self, request, pk=None):
        return Response({"id": str(self._patient().pk)})

    def create(self, request):
        patient = PatientFactory()
        transaction.on_commit(lambda: COMMITTED.append(patient.pk))  # as the notices are
        self.audit_patients([patient.pk])
        return Response({"id": str(patient.pk)}, status=HTTPStatus.CREATED)

    def destroy(self, request, pk=None):
        patient = self._patient()
        # A service that deletes and then finds a rule broken: its own transaction undoes
        # the delete, and the refusal is answered (and recorded).
        with transaction.atomic():
            patient.delete()
            if request.query_params.get("refuse"):
                raise ConflictError("refused after the delete")
        return Response({"message": "deleted"})

    @action(detail=True, methods=["get"])
    def notifications(self, request, pk=None):
        return Response([])

    @action(detail=True, methods=["get"])
    def undeclared(self, request, pk=None):
        return Response({"id": str(self._patient().pk)})

    def _patient(self) -> Patient:
        try:
            return Patient.objects.get(pk=uuid.UUID(self.kwargs["pk"]))
        except (ValueError, Patient.DoesNotExist):
            raise NotFoundError("Patient not found") from None


class ExportView(AuditedViewMixin, APIView):
    """A plain APIView: its actions are named by HTTP method."""

    permission_classes = [ModelPermissionsWithView]
    queryset = Patient.objects.none()
    audit_actions = {"get": Action.PATIENT_EXPORT}

    def get(self, request):
        ids = list(Patient.objects.values_list("pk", flat=True))
        self.audit_patients(ids)
        return Response({"count": len(ids)})


router = SimpleRouter()
router.trailing_slash = "/?"
router.register("patients", PatientViewSet, basename="patient")
urlpatterns = [*router.urls, path("export", ExportView.as_view())]
handler500 = "api.views.server_error"


def _records() -> list[AccessRecord]:
    return list(AccessRecord.objects.order_by("id").prefetch_related("patients"))


def _ids(record: AccessRecord) -> list[uuid.UUID]:
    return [patient.patient_id for patient in record.patients.order_by("id")]


@pytest.fixture
def patients() -> list[Patient]:
    return sorted(PatientFactory.create_batch(3), key=lambda p: (p.created_at, p.pk))


def test_each_request_leaves_one_record(alice, patients):
    alice.get("/patients")
    for patient in patients:
        alice.get(f"/patients/{patient.pk}")
    alice.get(f"/patients/{patients[0].pk}/notifications")

    records = _records()
    assert [record.action for record in records] == [
        Action.PATIENT_LIST,
        *[Action.PATIENT_READ] * 3,
        Action.PATIENT_NOTIFICATIONS,
    ]
    assert all(record.status == HTTPStatus.OK for record in records)
    assert all(record.via == Via.API for record in records)


def test_a_list_records_every_patient_it_returned(alice, patients):
    response = alice.get("/patients")

    (record,) = _records()
    assert _ids(record) == [patient.pk for patient in patients]
    assert [str(i) for i in _ids(record)] == response.json()


def test_a_read_records_the_patient_in_its_url(alice, patients):
    alice.get(f"/patients/{patients[1].pk}")

    (record,) = _records()
    assert _ids(record) == [patients[1].pk]


def test_a_create_records_the_patient_it_made(alice):
    response = alice.post("/patients", {}, format="json")

    (record,) = _records()
    assert response.status_code == HTTPStatus.CREATED
    assert (record.action, record.status) == (Action.PATIENT_CREATE, HTTPStatus.CREATED)
    assert [str(i) for i in _ids(record)] == [response.json()["id"]]


def test_the_record_names_the_user_and_the_tokens_digest_never_the_token(alice, patients):
    alice.get(f"/patients/{patients[0].pk}")

    (record,) = _records()
    digest = AuthToken.objects.get(user__username="alice").digest
    assert record.user.username == record.username == "alice"
    assert record.token == digest[:12]
    row = str(AccessRecord.objects.filter(pk=record.pk).values().get())
    assert alice.token not in row
    assert alice.token[:8] not in row


def test_the_path_is_recorded_without_its_query_string(alice, patients):
    alice.get("/patients", {"search": "Ann Marlowe", "limit": 5})

    (record,) = _records()
    assert record.path == "/patients"


def test_the_client_address_is_recorded(alice, patients):
    alice.get(f"/patients/{patients[0].pk}", REMOTE_ADDR="198.51.100.4")

    assert _records()[0].client_ip == "198.51.100.4"


def test_behind_a_proxy_the_forwarded_address_is_recorded(alice, patients, settings):
    settings.NUM_PROXIES = 1
    settings.REST_FRAMEWORK = {**settings.REST_FRAMEWORK, "NUM_PROXIES": 1}

    alice.get(f"/patients/{patients[0].pk}", HTTP_X_FORWARDED_FOR="203.0.113.9")

    assert _records()[0].client_ip == "203.0.113.9"


def test_an_address_that_is_no_address_is_left_out_not_an_error():
    record = access_record(
        action=Action.PATIENT_READ, via=Via.API, status_code=200, client_ip="not-an-address"
    )

    assert AccessRecord.objects.get(pk=record.pk).client_ip is None


def test_a_request_without_a_token_is_recorded_as_a_401(anonymous, patients):
    response = anonymous.get(f"/patients/{patients[0].pk}")

    (record,) = _records()
    assert response.status_code == HTTPStatus.UNAUTHORIZED
    assert (record.status, record.user, record.username, record.token) == (401, None, "", "")
    assert _ids(record) == [patients[0].pk]


def test_a_wrong_token_is_recorded_as_a_401(patients):
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION="Bearer " + "ab" * 32)

    client.get("/patients")

    (record,) = _records()
    assert (record.status, record.action, record.user) == (401, Action.PATIENT_LIST, None)


def test_a_refused_read_is_recorded_as_a_403(mallory, patients):
    response = mallory.get(f"/patients/{patients[0].pk}")

    (record,) = _records()
    assert response.status_code == HTTPStatus.FORBIDDEN
    assert (record.status, record.username) == (403, "mallory")
    assert _ids(record) == [patients[0].pk]


def test_a_refused_write_is_recorded_and_changes_nothing(carol, patients):
    response = carol.delete(f"/patients/{patients[0].pk}")

    (record,) = _records()
    assert response.status_code == HTTPStatus.FORBIDDEN
    assert (record.action, record.status, record.username) == (Action.PATIENT_DELETE, 403, "carol")
    assert Patient.objects.filter(pk=patients[0].pk).exists()


def test_a_missing_patient_is_recorded_as_a_404_with_the_id_asked_for(alice):
    missing = uuid.uuid4()

    response = alice.get(f"/patients/{missing}")

    (record,) = _records()
    assert response.status_code == HTTPStatus.NOT_FOUND
    assert (record.status, _ids(record)) == (404, [missing])


def test_an_id_that_is_no_uuid_is_recorded_without_patients(alice):
    alice.get("/patients/not-a-uuid")

    (record,) = _records()
    assert (record.status, _ids(record)) == (404, [])
    assert record.path == "/patients/not-a-uuid"


def test_a_write_refused_by_a_rule_is_undone_but_its_refusal_is_recorded(alice, patients):
    response = alice.delete(f"/patients/{patients[0].pk}?refuse=1")

    (record,) = _records()
    assert response.status_code == HTTPStatus.CONFLICT
    assert (record.action, record.status) == (Action.PATIENT_DELETE, 409)
    assert Patient.objects.filter(pk=patients[0].pk).exists()


def test_a_write_whose_record_fails_is_rolled_back_and_is_no_success(alice, records_refused):
    client = APIClient(raise_request_exception=False)
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {alice.token}")

    response = client.post("/patients", {}, format="json")

    assert response.status_code == HTTPStatus.INTERNAL_SERVER_ERROR
    assert response.json() == {"error": "Internal server error"}
    assert not Patient.objects.exists()
    assert not AccessRecord.objects.exists()


def test_a_read_whose_record_fails_is_no_success(alice, patients, records_refused):
    client = APIClient(raise_request_exception=False)
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {alice.token}")

    response = client.get(f"/patients/{patients[0].pk}")

    assert response.status_code == HTTPStatus.INTERNAL_SERVER_ERROR
    assert str(patients[0].pk) not in response.content.decode()


def test_a_write_and_its_record_commit_together(alice, patients):
    alice.delete(f"/patients/{patients[0].pk}")

    (record,) = _records()
    assert (record.action, record.status, _ids(record)) == (
        Action.PATIENT_DELETE,
        200,
        [patients[0].pk],
    )
    assert not Patient.objects.filter(pk=patients[0].pk).exists()


def test_an_action_the_view_does_not_declare_is_an_error_not_an_unrecorded_answer(alice, patients):
    with pytest.raises(ImproperlyConfigured, match="undeclared"):
        alice.get(f"/patients/{patients[0].pk}/undeclared")

    assert not AccessRecord.objects.exists()


def test_a_method_the_view_does_not_have_is_not_recorded(alice, patients):
    response = alice.put("/patients", {}, format="json")

    assert response.status_code == HTTPStatus.METHOD_NOT_ALLOWED
    assert not AccessRecord.objects.exists()


def test_options_describes_the_view_and_is_not_recorded(alice):
    response = alice.options("/patients")

    assert response.status_code == HTTPStatus.OK
    assert not AccessRecord.objects.exists()


def test_a_plain_api_view_names_its_actions_by_method(alice, patients):
    alice.get("/export")
    alice.head("/export")
    response = alice.post("/export", {}, format="json")

    records = _records()
    assert response.status_code == HTTPStatus.METHOD_NOT_ALLOWED
    assert [(r.action, r.status) for r in records] == [(Action.PATIENT_EXPORT, 200)] * 2
    assert set(_ids(records[0])) == {patient.pk for patient in patients}


@pytest.mark.django_db(transaction=True)
def test_a_writes_commit_hooks_run_once_it_and_its_record_are_committed(alice):
    COMMITTED.clear()

    response = alice.post("/patients", {}, format="json")

    (record,) = _records()
    assert [str(i) for i in COMMITTED] == [response.json()["id"]]
    assert _ids(record) == COMMITTED
