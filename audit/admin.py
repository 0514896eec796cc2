"""The access audit in the admin: read-only, for superusers and the auditor role."""

from django.contrib import admin
from django.db.models import Q

from api.admin import ReadOnlyAdminMixin
from audit.models import AccessRecord, Action
from audit.selectors import access_records_search

# How many of a record's patient ids its row in the list shows.
IDS_LISTED = 3


class ActionFilter(admin.SimpleListFilter):
    """The documented actions, and the admin's pages together. (Django's filter of all the
    values present would read the whole table on every page.)"""

    title = "action"
    parameter_name = "action"

    def lookups(self, request, model_admin):
        return [*Action.choices, ("admin.", "Admin pages")]

    def queryset(self, request, queryset):
        value = self.value()
        if value == "admin.":
            return queryset.filter(action__startswith="admin.")
        return queryset.filter(action=value) if value else queryset


class StatusFilter(admin.SimpleListFilter):
    title = "status"
    parameter_name = "outcome"
    OUTCOMES = {
        "allowed": ("Answered (below 400)", Q(status__lt=400)),
        "refused": ("Refused (401, 403)", Q(status__in=[401, 403])),
        "not_found": ("Not found (404)", Q(status=404)),
        "other": ("Other errors", Q(status__gte=400) & ~Q(status__in=[401, 403, 404])),
    }

    def lookups(self, request, model_admin):
        return [(key, label) for key, (label, _) in self.OUTCOMES.items()]

    def queryset(self, request, queryset):
        outcome = self.OUTCOMES.get(self.value())
        return queryset.filter(outcome[1]) if outcome else queryset


@admin.register(AccessRecord)
class AccessRecordAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    # Append-only: nobody, superusers included, adds, changes or deletes a record here.
    list_display = ["at", "username", "via", "action", "status", "patients_named", "client_ip"]
    list_filter = ["via", ActionFilter, StatusFilter]
    # The search box; get_search_results reads it.
    search_fields = ["username"]
    search_help_text = "A patient's id, a username or a user's id."
    date_hierarchy = "at"
    ordering = ["-at", "-id"]
    show_full_result_count = False  # a COUNT(*) of the whole audit on every page load
    fields = [
        "at",
        "username",
        "user",
        "token",
        "via",
        "action",
        "status",
        "client_ip",
        "path",
        "patient_ids",
    ]
    readonly_fields = fields
    actions = None

    def get_queryset(self, request):
        return super().get_queryset(request).prefetch_related("patients")

    def get_search_results(self, request, queryset, search_term):
        return access_records_search(queryset, search_term), False

    @admin.display(description="Patients")
    def patients_named(self, record: AccessRecord) -> str:
        ids = [str(patient.patient_id) for patient in record.patients.all()]
        shown = ", ".join(ids[:IDS_LISTED])
        return f"{shown} and {len(ids) - IDS_LISTED} more" if len(ids) > IDS_LISTED else shown

    @admin.display(description="Patient ids")
    def patient_ids(self, record: AccessRecord) -> str:
        return "\n".join(str(patient.patient_id) for patient in record.patients.all())
