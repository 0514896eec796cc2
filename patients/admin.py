"""The admin for clinic staff. Saves and deletes go through the same services as the API."""

from dataclasses import dataclass

from django import forms
from django.contrib import admin
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils.html import escape
from django.utils.safestring import mark_safe

from notifications.selectors import notifications_for_patient
from patients.models import EDITABLE_FIELDS, Patient
from patients.selectors import patient_search
from patients.services import patient_create, patient_delete, patient_update
from patients.validators import normalize_email, normalize_phone


class PatientAdminForm(forms.ModelForm):
    """Normalizes email and phone first, so the uniqueness check sees the stored form."""

    # Typed with separators it can be longer than the stored form; the model checks that.
    phone = forms.CharField(max_length=64)

    class Meta:
        model = Patient
        fields = EDITABLE_FIELDS

    def clean_email(self):
        return normalize_email(self.cleaned_data["email"])

    def clean_phone(self):
        return normalize_phone(self.cleaned_data["phone"])


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
class PatientAdmin(admin.ModelAdmin):
    form = PatientAdminForm
    list_display = ["name", "email", "phone", "created_at", "updated_at"]
    search_fields = ["name", "email", "phone"]
    list_filter = ["preferred_channel", "sms_opt_out", "email_opt_out", "created_at", "updated_at"]
    ordering = ["-created_at", "-id"]
    readonly_fields = ["id", "created_at", "updated_at", "notices"]
    fields = ["id", *EDITABLE_FIELDS, "created_at", "updated_at"]
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

    def save_model(self, request, obj, form, change):
        if change:
            # The form has already changed `obj`; the service compares against the stored row.
            changed = {field: form.cleaned_data[field] for field in form.changed_data}
            saved = patient_update(patient=obj, data=changed, actor=request.user)
        else:
            saved = patient_create(**form.cleaned_data, actor=request.user)
        # The admin goes on with `obj` (its log entry, its redirect): make it the saved row.
        obj.pk = saved.pk
        obj.refresh_from_db()
        obj._state.adding = False

    def delete_model(self, request, obj):
        patient_delete(patient=obj, actor=request.user)

    def delete_queryset(self, request, queryset):
        for patient in queryset:
            patient_delete(patient=patient, actor=request.user)
