"""The admin for clinic staff. Saves and deletes go through the same services as the API."""

from django import forms
from django.contrib import admin

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


@admin.register(Patient)
class PatientAdmin(admin.ModelAdmin):
    form = PatientAdminForm
    list_display = ["name", "email", "phone", "created_at", "updated_at"]
    search_fields = ["name", "email", "phone"]
    list_filter = ["preferred_channel", "sms_opt_out", "email_opt_out", "created_at", "updated_at"]
    ordering = ["-created_at", "-id"]
    readonly_fields = ["id", "created_at", "updated_at"]
    fields = ["id", *EDITABLE_FIELDS, "created_at", "updated_at"]
    date_hierarchy = "created_at"
    show_full_result_count = False  # a COUNT(*) of the whole table on every page load

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
