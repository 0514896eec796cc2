"""The admin for clinic staff. Saves and deletes go through the same services as the API."""

import contextlib
from dataclasses import dataclass

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import ValidationError
from django.db.models import Exists, OuterRef
from django.http import HttpResponseRedirect
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils.html import escape
from django.utils.safestring import mark_safe

from api.admin import ReadOnlyAdminMixin
from audit.mixins import AuditedAdminMixin
from notifications.selectors import notifications_for_patient
from patients.models import EDITABLE_FIELDS, DeletedPatient, Patient, Via
from patients.selectors import patient_search
from patients.services import (
    PatientConflict,
    PatientModified,
    PatientNotFound,
    PatientNotRestorable,
    patient_create,
    patient_delete,
    patient_restore,
    patient_update,
)
from patients.validators import normalize_email, normalize_phone

DELETED_MEANWHILE = (
    "Someone else deleted this patient after you opened this page. Nothing was saved."
)
STALE_FORM = (
    "Someone else changed this patient after you opened this page. Nothing was saved: "
    "reload the page to see their change, then make yours again."
)


class PatientAdminForm(forms.ModelForm):
    """Normalizes email and phone first, so the uniqueness check sees the stored form, and
    carries the version the page showed, so a save over someone else's change is refused."""

    # Typed with separators it can be longer than the stored form; the model checks that.
    phone = forms.CharField(max_length=64)
    seen_version = forms.IntegerField(widget=forms.HiddenInput, required=False, min_value=1)

    class Meta:
        model = Patient
        fields = EDITABLE_FIELDS

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if self.instance.pk is not None:
            self.fields["seen_version"].initial = self.instance.version

    def clean(self):
        cleaned = super().clean()
        # The friendly check; the service checks again under the row lock when saving. A
        # post without the field (not from this page) is unconditional, as the API without
        # If-Match.
        shown = cleaned.get("seen_version")
        if self.instance.pk is not None and shown is not None and shown != self.instance.version:
            raise ValidationError(STALE_FORM, code="stale")
        return cleaned

    def clean_email(self):
        return normalize_email(self.cleaned_data["email"])

    def clean_phone(self):
        return normalize_phone(self.cleaned_data["phone"])


def _shown_version(form: PatientAdminForm) -> frozenset[int] | None:
    shown = form.cleaned_data.get("seen_version")
    return None if shown is None else frozenset([shown])


# How many of a patient's notices their page lists; the outbox has the rest.
NOTICES_SHOWN = 50


def staff_label(patient: Patient) -> str:
    """How the admin's pages name a patient so two namesakes can be told apart. Only pages
    show it: `str(patient)` (the first name), not this, is what the admin's log keeps."""
    return f"{patient.name} (phone ending {patient.phone[-4:]})"


@dataclass(frozen=True)
class _Labelled:
    """A patient as the delete confirmation's template uses it: its pk and its label."""

    pk: object
    label: str

    def __str__(self) -> str:
        return self.label


@admin.register(Patient)
class PatientAdmin(AuditedAdminMixin, admin.ModelAdmin):
    form = PatientAdminForm
    # The birth date tells apart two patients of the same name.
    list_display = ["name", "birth_date", "email", "phone", "created_at", "updated_at"]
    search_fields = ["name", "email", "phone"]
    list_filter = ["preferred_channel", "sms_opt_out", "email_opt_out", "created_at", "updated_at"]
    ordering = ["-created_at", "-id"]
    readonly_fields = ["id", "version", "created_at", "updated_at", "notices"]
    # The birth date beside the name, where staff look to tell two patients apart.
    fields = [
        "id",
        "name",
        "birth_date",
        *(field for field in EDITABLE_FIELDS if field not in ("name", "birth_date")),
        "version",
        "created_at",
        "updated_at",
        "seen_version",
    ]
    date_hierarchy = "created_at"
    show_full_result_count = False  # a COUNT(*) of the whole table on every page load

    def get_fields(self, request, obj=None):
        fields = super().get_fields(request, obj)
        if obj is not None and request.user.has_perm("notifications.view_notification"):
            fields = [*fields, "notices"]
        return fields

    @admin.display(description="Notices")
    def notices(self, patient: Patient) -> str:
        """The patient's notices, newest first, as a table (read-only: the outbox's own)."""
        outbox = reverse("admin:notifications_notification_changelist")
        return render_to_string(
            "admin/patients/patient/notices.html",
            {
                "notices": notifications_for_patient(patient_id=patient.pk)[:NOTICES_SHOWN],
                "shown": NOTICES_SHOWN,
                "outbox_url": f"{outbox}?patient__id__exact={patient.pk}",
            },
        )

    def render_change_form(self, request, context, add=False, change=False, form_url="", obj=None):
        if obj is not None:
            context["subtitle"] = staff_label(obj)
        return super().render_change_form(request, context, add, change, form_url, obj)

    def render_delete_form(self, request, context):
        context["object"] = _Labelled(context["object"].pk, staff_label(context["object"]))
        return super().render_delete_form(request, context)

    def get_deleted_objects(self, objs, request):
        # Each patient about to go, named in full as on its page: Django lists `str()`, as a
        # link (escaped HTML) when the user may change it, else as plain text.
        deleted, counts, perms_needed, protected = super().get_deleted_objects(objs, request)
        labels = [(str(patient), staff_label(patient)) for patient in objs]

        def relabel(item):
            if isinstance(item, list):
                return [relabel(child) for child in item]
            for short, full in labels:
                if item == f"Patient: {short}":
                    return f"Patient: {full}"
                link_text = f">{escape(short)}</a>"
                if item.startswith("Patient: ") and item.endswith(link_text):
                    return mark_safe(item.removesuffix(link_text) + f">{escape(full)}</a>")
            return item

        return relabel(deleted), counts, perms_needed, protected

    def get_search_results(self, request, queryset, search_term):
        # The API's search, so a phone typed with spaces or dashes is found here too.
        return patient_search(queryset, search_term), False

    def changeform_view(self, request, object_id=None, form_url="", extra_context=None):
        try:
            return super().changeform_view(request, object_id, form_url, extra_context)
        except PatientModified:
            # Someone saved between the form's check and this save's lock.
            self.message_user(request, STALE_FORM, messages.ERROR)
            return HttpResponseRedirect(request.path)
        except PatientNotFound:
            # Someone deleted the patient between this page's read and its save.
            self.message_user(request, DELETED_MEANWHILE, messages.ERROR)
            return HttpResponseRedirect(reverse("admin:patients_patient_changelist"))
        except PatientConflict as conflict:
            # Someone took the email or phone between the form's check and this save.
            self.message_user(request, f"{conflict}. Nothing was saved.", messages.ERROR)
            return HttpResponseRedirect(request.path)

    def save_model(self, request, obj, form, change):
        values = {field: form.cleaned_data[field] for field in EDITABLE_FIELDS}
        if change:
            # The form has already changed `obj`; the service compares against the stored row.
            changed = {field: values[field] for field in form.changed_data if field in values}
            saved = patient_update(
                patient=obj,
                data=changed,
                actor=request.user,
                via=Via.ADMIN,
                expected_versions=_shown_version(form),
            )
        else:
            saved = patient_create(**values, actor=request.user, via=Via.ADMIN)
        # The admin goes on with `obj` (its log entry, its redirect): make it the saved row.
        obj.pk = saved.pk
        obj.refresh_from_db()
        obj._state.adding = False

    def delete_model(self, request, obj):
        # Someone else may have deleted it since this page read it: it is gone either way.
        with contextlib.suppress(PatientNotFound):
            patient_delete(patient=obj, actor=request.user, via=Via.ADMIN)

    def delete_queryset(self, request, queryset):
        for patient in queryset:
            # Someone else may have deleted it meanwhile: it is gone either way.
            with contextlib.suppress(PatientNotFound):
                patient_delete(patient=patient, actor=request.user, via=Via.ADMIN)


@admin.register(DeletedPatient)
class DeletedPatientAdmin(AuditedAdminMixin, ReadOnlyAdminMixin, admin.ModelAdmin):
    """Deleted patients, as their last version had them, for staff to restore. Read-only:
    versions are never edited; restoring makes a new one."""

    list_display = ["name", "email", "phone", "deleted_at", "deleted_by", "version"]
    # Its rows are versions; the audit names the patients they are versions of.
    audit_patient_field = "id"
    search_fields = ["name", "email", "phone"]
    ordering = ["-history_date"]
    actions = ["restore"]

    def get_queryset(self, request):
        # The latest version of each patient that no longer exists, when it is a deletion.
        newer = DeletedPatient.objects.filter(
            id=OuterRef("id"), history_date__gt=OuterRef("history_date")
        )
        return (
            super()
            .get_queryset(request)
            .filter(history_type="-")
            .exclude(Exists(Patient.objects.filter(pk=OuterRef("id"))))
            .exclude(Exists(newer))
            .select_related("history_user")
        )

    def get_search_results(self, request, queryset, search_term):
        return patient_search(queryset, search_term), False

    @admin.display(description="deleted", ordering="history_date")
    def deleted_at(self, version):
        return version.history_date

    @admin.display(description="deleted by")
    def deleted_by(self, version):
        return version.history_user

    @admin.action(description="Restore the selected patients", permissions=["restore"])
    def restore(self, request, queryset):
        for version in queryset:
            label = staff_label(version)
            try:
                patient_restore(patient_id=version.id, actor=request.user, via=Via.ADMIN)
            except (PatientNotRestorable, PatientNotFound) as refusal:
                self.message_user(request, f"{label}: {refusal}", messages.ERROR)
            else:
                self.message_user(request, f"{label} was restored.", messages.SUCCESS)

    def has_restore_permission(self, request):
        return request.user.has_perm("patients.add_patient")

    def has_view_permission(self, request, obj=None):
        return request.user.has_perm("patients.view_patient")

    def has_module_permission(self, request):
        return self.has_view_permission(request)
