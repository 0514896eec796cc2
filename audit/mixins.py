"""The access audit for the faces that show or change patient data: a mixin for DRF views and
one for ModelAdmins. Each request through them writes one access record, whatever its
outcome, and a write commits with its record or not at all."""

import contextlib
import functools
from collections.abc import Iterable

from django.core.exceptions import ImproperlyConfigured, PermissionDenied, SuspiciousOperation
from django.db import router, transaction
from django.http import Http404
from django.urls import URLPattern
from rest_framework import status
from rest_framework.permissions import SAFE_METHODS

from api.ids import uuid_or_none
from audit.models import Via
from audit.services import request_access_record

# DRF's OPTIONS answer describes the view, not a patient.
NOT_AUDITED_ACTIONS = frozenset({"metadata"})


def _write_transaction(method: str, using: str | None = None):
    """A transaction around a request that may write, so its changes and its record commit
    together; a read gets none (its record is written in a transaction of its own)."""
    if method in SAFE_METHODS:
        return contextlib.nullcontext()
    return transaction.atomic(using=using)


class AuditedViewMixin:
    """Writes one access record per request to a DRF view, in `finalize_response`, for every
    answer the view gives: 2xx, and the refusals (401, 403, 404, 409, 412, 429, 400 ...).

    The view declares what its actions are, by DRF action name (a viewset's `list`,
    `retrieve`, an `@action`'s name) or, for a plain APIView, by lower-case HTTP method:

        audit_actions = {"list": Action.PATIENT_LIST, "retrieve": Action.PATIENT_READ}

    Every action the view answers must be named; map one to None if it shows no patient
    data. An action left out is a server error, so that a new action cannot answer 2xx
    without a record.

    The patients a request returned or touched are given with `self.audit_patients(ids)`
    (it may be called more than once). Without that call, the URL's `pk` (the kwarg named by
    `audit_patient_kwarg`) is the patient, if it is a UUID.

    POST, PUT, PATCH and DELETE run in one transaction with their record: if the record
    cannot be written, the change is rolled back and the client gets a 500, never a 2xx.
    A refusal answered inside the transaction (a 4xx) commits its record; the services'
    own nested transactions have already rolled back their part. `on_commit` hooks (the
    notices' publishing) run after that outer commit.
    """

    audit_actions: dict[str, str | None] = {}
    # The URL kwarg that names a patient; None when the view's URLs name no patient.
    audit_patient_kwarg: str | None = "pk"

    def audit_patients(self, patient_ids: Iterable) -> None:
        """The ids of patients this request returned or touched, for its record."""
        if self._audit_patient_ids is None:
            self._audit_patient_ids = []
        self._audit_patient_ids.extend(patient_ids)

    def get_audit_action(self, request) -> str | None:
        """The action of this request, or None for a request that shows no patient data."""
        if hasattr(self, "action"):  # a viewset: None when the method has no action (405)
            name = self.action
        else:
            name = request.method.lower()
            if name == "head" and name not in self.audit_actions:
                name = "get"
        if name is None or name in NOT_AUDITED_ACTIONS:
            return None
        try:
            return self.audit_actions[name]
        except KeyError:
            raise ImproperlyConfigured(
                f"{type(self).__name__}.audit_actions names no audit action for {name!r} "
                "(map it to None if it shows no patient data)"
            ) from None

    def dispatch(self, request, *args, **kwargs):
        self._audit_patient_ids = None
        with _write_transaction(request.method):
            return super().dispatch(request, *args, **kwargs)

    def finalize_response(self, request, response, *args, **kwargs):
        response = super().finalize_response(request, response, *args, **kwargs)
        if response.status_code == status.HTTP_405_METHOD_NOT_ALLOWED:
            return response
        action = self.get_audit_action(request)
        if action is not None:
            request_access_record(
                request,
                action=action,
                patient_ids=self._audited_patient_ids(),
                status_code=response.status_code,
                via=Via.API,
            )
        return response

    def _audited_patient_ids(self) -> list:
        if self._audit_patient_ids is not None:
            return self._audit_patient_ids
        patient_id = uuid_or_none(self.kwargs.get(self.audit_patient_kwarg or ""))
        return [patient_id] if patient_id is not None else []


class _AdminAccess:
    """What one admin request did, gathered while it runs."""

    def __init__(self, action: str):
        self.action = action
        self.patient_ids: list = []


_ADMIN_ACCESS = "_audit_admin_access"


class AuditedAdminMixin:
    """Writes one access record per request to a ModelAdmin's pages: the list (with the
    patients on the page, or those an admin action was run on), add, change (GET and POST),
    delete, history, and any other page the admin routes under its model, refusals included
    (403, 404, and the redirect to the login page of someone not logged in as staff).

    Put it first among the bases: `class PatientAdmin(AuditedAdminMixin, admin.ModelAdmin)`.
    Actions are `admin.<model>.<page>_view` (`admin.patient.change_view`), and
    `admin.<model>.<action name>` when the list ran an admin action.

    `audit_patient_field` is the attribute of the admin's objects that holds the patient's
    id: "pk" for patients, "patient_id" for rows about a patient. With "pk", a page whose
    object was not found still records the id in its URL. A page of the admin's own (a
    custom URL) adds the patients it shows with `self.audit_patients(request, ids)` when it
    is routed under the model, or records itself with `self.audit_access(...)`.

    A POST runs in one transaction with its record, like the API's writes.
    """

    audit_patient_field = "pk"

    # The hooks that see the objects a page works on.

    def get_urls(self):
        prefix = f"{self.opts.app_label}_{self.opts.model_name}_"
        return [
            URLPattern(
                pattern.pattern,
                self._audited_view(pattern.callback, pattern.name.removeprefix(prefix)),
                pattern.default_args,
                pattern.name,
            )
            if isinstance(pattern, URLPattern) and (pattern.name or "").startswith(prefix)
            else pattern
            for pattern in super().get_urls()
        ]

    def get_object(self, request, object_id, from_field=None):
        obj = super().get_object(request, object_id, from_field)
        if obj is not None:
            self.audit_patients(request, self._patient_ids_of([obj]))
        return obj

    def response_add(self, request, obj, post_url_continue=None):
        self.audit_patients(request, self._patient_ids_of([obj]))
        return super().response_add(request, obj, post_url_continue)

    def get_actions(self, request):
        return {
            name: (self._audited_action(func, name), name, description)
            for name, (func, _, description) in super().get_actions(request).items()
        }

    # For pages of the admin's own.

    def audit_patients(self, request, patient_ids: Iterable) -> None:
        """Add patients to the record of the admin page being answered."""
        access = getattr(request, _ADMIN_ACCESS, None)
        if access is not None:
            access.patient_ids.extend(patient_ids)

    def audit_access(self, request, *, action: str, patient_ids: Iterable, status_code: int):
        """Record a request the mixin does not see (a view outside the model's URLs)."""
        return request_access_record(
            request, action=action, patient_ids=patient_ids, status_code=status_code, via=Via.ADMIN
        )

    # The machinery.

    def _patient_ids_of(self, objects: Iterable) -> list:
        return [getattr(obj, self.audit_patient_field) for obj in objects]

    def _audited_action(self, func, name: str):
        @functools.wraps(func)
        def audited(modeladmin, request, queryset):
            access = getattr(request, _ADMIN_ACCESS, None)
            if access is not None:
                access.action = f"admin.{self.opts.model_name}.{name}"
                self.audit_patients(
                    request, queryset.values_list(self.audit_patient_field, flat=True)
                )
            return func(modeladmin, request, queryset)

        return audited

    def _audited_view(self, view, page: str):
        action = f"admin.{self.opts.model_name}.{page}_view"

        @functools.wraps(view)
        def audited_view(request, *args, **kwargs):
            access = _AdminAccess(action)
            setattr(request, _ADMIN_ACCESS, access)
            try:
                with _write_transaction(request.method, router.db_for_write(self.model)):
                    response = view(request, *args, **kwargs)
                    self._record(request, access, response.status_code, response, kwargs)
            # The admin's refusals, answered as 403, 400 and 404 by the handlers; recorded
            # after the transaction they rolled back.
            except PermissionDenied:
                self._record(request, access, status.HTTP_403_FORBIDDEN, None, kwargs)
                raise
            except SuspiciousOperation:
                self._record(request, access, status.HTTP_400_BAD_REQUEST, None, kwargs)
                raise
            except Http404:
                self._record(request, access, status.HTTP_404_NOT_FOUND, None, kwargs)
                raise
            return response

        return audited_view

    def _record(self, request, access: _AdminAccess, status_code: int, response, kwargs):
        patient_ids = access.patient_ids
        # The list page's rows: the same list its template shows, read here first.
        context = getattr(response, "context_data", None) or {}
        changelist = context.get("cl")
        if changelist is not None:
            patient_ids = [*patient_ids, *self._patient_ids_of(changelist.result_list)]
        if not patient_ids and self.audit_patient_field == "pk":
            patient_id = uuid_or_none(kwargs.get("object_id"))
            patient_ids = [patient_id] if patient_id is not None else []
        request_access_record(
            request,
            action=access.action,
            patient_ids=patient_ids,
            status_code=status_code,
            via=Via.ADMIN,
        )
